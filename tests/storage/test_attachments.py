"""Attachments in chat, through the HTTP API and the official SDKs against the emulator: an
image reaches each provider as image input (the emulator's reply says it saw it), a PDF and a
DOCX reach it as text (the prompt grows by the document's tokens)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import docx
import pytest
from weasyprint import HTML

from api.files.attach import ModelCannotSeeImages, turn_files
from core.catalog import MODELS
from core.db import Database
from core.extract import extract_text
from tests.chat.helpers import read_events
from tests.conftest import SignedIn
from tests.storage.helpers import png_bytes, upload

SignIn = Callable[..., Awaitable[SignedIn]]
pytestmark = pytest.mark.usefixtures("clamd")
REPORT_LINE = "Quarterly revenue in Amman grew by twelve percent while costs stayed flat. "


def pdf_bytes() -> bytes:
    body = "".join(f"<p>{REPORT_LINE}</p>" for _ in range(60))
    return HTML(string=f"<html><body><h1>تقرير الربع</h1>{body}</body></html>").write_pdf()


def docx_bytes() -> bytes:
    document = docx.Document()
    for _ in range(60):
        document.add_paragraph(REPORT_LINE)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_the_extractors_read_pdf_and_docx() -> None:
    assert extract_text(pdf_bytes(), "application/pdf").count("twelve percent while costs stayed flat") == 60
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert extract_text(docx_bytes(), docx_type).count("twelve percent") == 60
    assert extract_text(b"not a pdf", "application/pdf") == ""


async def send(me: SignedIn, model: str, message: str, file_ids: list[str]) -> tuple[str, dict[str, int]]:
    response = await me.client.post(
        "/v1/chat/turns", json={"model": model, "message": message, "file_ids": file_ids}
    )
    assert response.status_code == 202, response.text
    stream = await read_events(me.client, response.json()["events_url"])
    assert stream.last.type == "done", stream.events
    return stream.text, stream.of("usage")[0].data


async def test_an_image_and_a_pdf_reach_each_provider(sign_in: SignIn) -> None:
    me = await sign_in(locale="ar")
    image = await upload(me.client, "لقطة.png", png_bytes(), "image/png")
    report = await upload(me.client, "تقرير.pdf", pdf_bytes(), "application/pdf")
    assert image.file["status"] == report.file["status"] == "ready"
    report_tokens = len(REPORT_LINE.encode()) * 60 // 4  # the emulator counts 4 bytes a token
    for model in ("gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"):
        text, usage = await send(me, model, "ماذا ترى في المرفقات؟", [image.file_id, report.file_id])
        assert text.startswith("رأيتُ 1 صورة."), (model, text)
        assert usage["input_tokens"] > 258 + report_tokens * 0.9, model  # and 258 per image


async def test_a_docx_is_sent_as_text_and_attachments_are_checked(sign_in: SignIn, db: Database) -> None:
    me, stranger = await sign_in(), await sign_in()
    docx_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    notes = await upload(me.client, "notes.docx", docx_bytes(), docx_type, purpose="document")
    assert notes.file["status"] == "ready", notes.file
    text, usage = await send(me, "gpt-5-mini", "Summarise", [notes.file_id])
    assert not text.startswith("I saw") and usage["input_tokens"] > len(REPORT_LINE) * 60 // 4

    theirs = await stranger.client.post(
        "/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hi", "file_ids": [notes.file_id]}
    )
    assert theirs.status_code == 404 and theirs.json()["code"] == "file_not_found"
    pending = (
        await me.client.post("/v1/files", json={"name": "a.txt", "content_type": "text/plain", "size": 3})
    ).json()
    not_ready = await me.client.post(
        "/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hi", "file_ids": [pending["file_id"]]}
    )
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "file_not_ready"

    image = await upload(me.client, "a.png", png_bytes(), "image/png")
    blind = MODELS["gpt-5-mini"].__class__(
        **{**vars(MODELS["gpt-5-mini"]), "capabilities": frozenset({"stream"})}
    )
    async with db.session() as session:
        with pytest.raises(ModelCannotSeeImages):
            await turn_files(session, me.user_id, blind, [image.file_id])
