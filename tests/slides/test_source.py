"""An uploaded document as a deck's source: the readers on their own (a LibreOffice-made Arabic
PDF, a DOCX, Markdown with a BOM and Arabic presentation forms, an image-only "scanned" PDF,
a document longer than the outline takes), the per-slide excerpt, and the whole flow through
the HTTP API — uploaded and virus-scanned, picked as the source of a deck that is then made —
with 4xx answers (in the caller's language) for what cannot be a source, and nothing recorded."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from PIL import Image

from core.extract import DOCX
from core.slides.model import Brief, Outline
from core.slides.prompts import content_prompt, reserve_estimate
from core.slides.source import SOURCE_MAX_CHARS, SourceEmpty, document_text, excerpt
from tests.chat.helpers import read_events
from tests.slides.test_slides_api import wait_status
from tests.storage.helpers import create, upload

FIXTURE = Path(__file__).parent / "fixtures" / "arabic-source.pdf"  # LibreOffice 7.4 from a DOCX
PARAGRAPHS = [
    "خطة المبيعات للربع الثالث",
    "نمت الإيرادات في عمان وإربد خلال العام الماضي، ونستهدف ثلاثة أسواق جديدة في الجنوب.",
    "الهدف الأول زيادة المبيعات الرقمية عبر المتجر الإلكتروني وتطبيق الهاتف.",
    "نفتتح فرعا جديدا في العقبة قرب الميناء لخدمة الزوار والشركات الصغيرة.",
    "نقيس النجاح برضا العملاء وسرعة التوصيل وعدد الطلبات المتكررة كل شهر.",
]


def docx_bytes(paragraphs: list[str]) -> bytes:
    document = Document()
    document.add_heading(paragraphs[0], 1)
    for text in paragraphs[1:]:
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "المدينة", "العقبة"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    """A page that is only a picture (what a scanner makes): no text layer."""
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), (250, 250, 245)).save(buffer, format="PDF")
    return buffer.getvalue()


def test_arabic_pdf_from_an_office_suite_reads_in_logical_order() -> None:
    text, cut = document_text(FIXTURE.read_bytes(), "application/pdf")
    assert text.split("\n") == PARAGRAPHS and not cut


def test_docx_markdown_and_presentation_forms() -> None:
    text, _ = document_text(docx_bytes(PARAGRAPHS), DOCX)
    assert text.split("\n")[: len(PARAGRAPHS)] == PARAGRAPHS and "المدينة | العقبة" in text
    # a BOM, and words typed in presentation forms (old PDFs and converters emit them)
    markdown = "\ufeff# خطة\n\n- ﺍﻟﻤﺒﻴﻌﺎﺕ ﺍﻟﺮﻗﻤﻴﺔ ﻻ ﺗﺘﻮﻗﻒ\n".encode()
    text, _ = document_text(markdown, "text/markdown")
    assert text == "# خطة\n\n- المبيعات الرقمية لا تتوقف"


def test_no_text_and_too_much_text() -> None:
    with pytest.raises(SourceEmpty):
        document_text(scanned_pdf(), "application/pdf")
    with pytest.raises(SourceEmpty):
        document_text(b"   \n\n  ", "text/plain")
    long = ("جملة طويلة عن خطة المبيعات في الأردن. " * 2000).encode()
    text, cut = document_text(long, "text/plain")
    assert cut and SOURCE_MAX_CHARS - 200 < len(text) <= SOURCE_MAX_CHARS


def test_each_slide_gets_the_passage_about_it() -> None:
    source = "\n".join(PARAGRAPHS * 30)  # longer than one slide's excerpt
    picked = excerpt(source, "فرع جديد في العقبة", budget=300)
    assert "العقبة" in picked and len(picked) <= 300
    brief = Brief(topic="خطة المبيعات", slides=3, source_text=source)
    outline = Outline.model_validate(
        {
            "title": "خطة المبيعات",
            "slides": [
                {"heading": "خطة المبيعات", "layout": "title"},
                {"heading": "فرع العقبة", "key_message": "ميناء العقبة والزوار", "layout": "bullets"},
                {"heading": "شكراً", "layout": "closing"},
            ],
        }
    )
    prompt = content_prompt(brief, outline, 1)
    assert "Source material" in prompt.user and "نفتتح فرعا جديدا في العقبة" in prompt.user
    assert len(prompt.user) < 2500  # an excerpt, not the whole document
    assert reserve_estimate(brief) > reserve_estimate(brief.model_copy(update={"source_text": ""}))


@pytest.mark.usefixtures("clamd")
async def test_a_deck_made_from_an_uploaded_arabic_pdf(sign_in: Any) -> None:
    me = await sign_in()
    pdf = await upload(
        me.client, "خطة المبيعات.pdf", FIXTURE.read_bytes(), "application/pdf", purpose="document"
    )
    assert pdf.file["status"] == "ready", pdf.file
    started = await me.client.post(
        "/v1/slides", json={"topic": "خطة المبيعات للربع الثالث", "slides": 3, "source_file_id": pdf.file_id}
    )
    assert started.status_code == 202, started.text
    deck = await wait_status(me.client, started.json()["deck_id"], "awaiting_outline", timeout=60)
    brief = deck["brief"]
    assert brief["source_name"] == "خطة المبيعات.pdf" and brief["source_file_id"] == pdf.file_id
    assert brief["source_text"].split("\n") == PARAGRAPHS and brief["source_truncated"] is False
    approved = await me.client.post(f"/v1/slides/{deck['id']}/outline", json=deck["outline"])
    assert approved.status_code == 200, approved.text
    stream = await read_events(me.client, started.json()["events_url"])
    assert stream.last.type == "done", stream.events
    # another person can't take it as a source
    stranger = await sign_in()
    refused = await stranger.client.post(
        "/v1/slides", json={"topic": "خطة المبيعات", "source_file_id": pdf.file_id}
    )
    assert refused.status_code == 404 and refused.json()["code"] == "file_not_found"


@pytest.mark.usefixtures("clamd")
async def test_what_cannot_be_a_source_is_refused_with_a_reason(sign_in: Any) -> None:
    me = await sign_in()
    brief = {"topic": "خطة المبيعات", "slides": 3}

    async def refused(file_id: str, lang: str = "ar") -> dict[str, Any]:
        response = await me.client.post(
            "/v1/slides", json={**brief, "source_file_id": file_id}, params={"lang": lang}
        )
        assert 400 <= response.status_code < 500, response.text
        return {"status": response.status_code, **response.json()}

    picture = await upload(me.client, "صورة.png", _png(), "image/png", purpose="chat")
    answer = await refused(picture.file_id)
    assert (answer["status"], answer["code"]) == (415, "slides_source_unsupported")
    assert "PDF" in answer["message"] and "مستند" in answer["message"]  # Arabic by default
    scan = await upload(me.client, "مسح ضوئي.pdf", scanned_pdf(), "application/pdf", purpose="document")
    assert scan.file["status"] == "ready", scan.file
    answer = await refused(scan.file_id, "en")
    assert (answer["status"], answer["code"]) == (422, "slides_source_empty")
    assert "scanned image" in answer["message"]
    big = await upload(me.client, "كبير.txt", b"a" * (10 * 1024 * 1024 + 1), "text/plain", purpose="document")
    assert big.file["status"] == "ready", big.file
    answer = await refused(big.file_id)
    assert (answer["status"], answer["code"]) == (413, "slides_source_too_large")
    assert "10" in answer["message"]
    pending = await create(me.client, "لاحقاً.pdf", "application/pdf", 1000, purpose="document")
    answer = await refused(pending.json()["file_id"])
    assert (answer["status"], answer["code"]) == (409, "file_not_ready")
    answer = await refused("0" * 26)
    assert (answer["status"], answer["code"]) == (404, "file_not_found")
    # nothing was recorded for any of them
    assert (await me.client.get("/v1/slides")).json() == []
    assert (await me.client.get("/v1/jobs", params={"kind": "slides"})).json() == []


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()
