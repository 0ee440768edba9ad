"""Attachments in chat, through the HTTP API and the official SDKs against the emulator: an
image reaches each provider as image input (the emulator's reply says it saw it), a PDF and a
DOCX reach it as text (the prompt grows by the document's tokens)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import docx
import pytest
from sqlalchemy import select
from weasyprint import HTML

from activities.attachments import Attachments
from api.files.attach import ModelCannotSeeImages, turn_files
from core import ledger, subscriptions
from core.catalog import MODELS
from core.chat import turn_history
from core.db import Database
from core.extract import extract_text
from core.models import Job
from core.settings import Settings
from providers.storage import LocalStorage
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


async def send(
    me: SignedIn, model: str, message: str, file_ids: list[str], conversation_id: str | None = None
) -> tuple[str, dict[str, int]]:
    body = {"model": model, "message": message, "file_ids": file_ids, "conversation_id": conversation_id}
    response = await me.client.post("/v1/chat/turns", json=body)
    assert response.status_code == 202, response.text
    stream = await read_events(me.client, response.json()["events_url"])
    assert stream.last.type == "done", stream.events
    usage = stream.of("usage")[0].data
    return stream.text, {**usage, "conversation_id": response.json()["conversation_id"]}


async def test_an_image_and_a_pdf_reach_each_provider(sign_in: SignIn) -> None:
    me = await sign_in(locale="ar")
    image = await upload(me.client, "لقطة.png", png_bytes(), "image/png")
    report = await upload(me.client, "تقرير.pdf", pdf_bytes(), "application/pdf")
    assert image.file["status"] == report.file["status"] == "ready"
    report_tokens = len(REPORT_LINE.encode()) * 60 // 4  # the emulator counts 4 bytes a token
    # the emulator counts each provider's own figure per image
    per_image = {"gpt-5-mini": 85, "claude-haiku-4-5": 1600, "gemini-2.5-flash": 258}
    for model, image_tokens in per_image.items():
        text, usage = await send(me, model, "ماذا ترى في المرفقات؟", [image.file_id, report.file_id])
        assert text.startswith("رأيتُ 1 صورة."), (model, text)
        assert usage["input_tokens"] > image_tokens + report_tokens * 0.9, model


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


async def test_earlier_turns_keep_their_files(sign_in: SignIn, db: Database, settings: Settings) -> None:
    """A later turn re-sends what earlier turns carried, on every provider: the images (the
    emulator counts the images of every user message) and the documents' text."""
    me = await sign_in(locale="ar")
    async with db.session() as session:  # three conversations of three turns: more than Free's tokens
        await subscriptions.ensure_subscription(session, me.user_id)
        await ledger.adjust(
            session, user_id=me.user_id, unit="tokens", delta=100_000, actor_id=me.user_id,
            reason="test: tokens for nine turns", key=f"tokens-{me.user_id}",
        )  # fmt: skip
    red = await upload(me.client, "أحمر.png", png_bytes(), "image/png")
    blue = await upload(me.client, "أزرق.png", png_bytes(color=(20, 40, 200)), "image/png")
    report = await upload(me.client, "تقرير.pdf", pdf_bytes(), "application/pdf")
    report_tokens = len(REPORT_LINE.encode()) * 60 // 4
    for model in ("gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"):
        text, first = await send(me, model, "ما هذه الصورة؟", [red.file_id, report.file_id])
        assert text.startswith("رأيتُ 1 صورة."), (model, text)
        conversation = str(first["conversation_id"])
        text, second = await send(me, model, "وماذا عن الأرقام؟", [], conversation)
        assert text.startswith("رأيتُ 1 صورة."), (model, text)  # turn 1's image, sent again
        assert second["input_tokens"] > first["input_tokens"] > report_tokens * 0.9, model  # and the PDF
        text, third = await send(me, model, "قارن بين الصورتين", [blue.file_id], conversation)
        assert text.startswith("رأيتُ 2 صور."), (model, text)

    # the conversation, read again, names each question's files with a link to each
    detail = (await me.client.get(f"/v1/chat/conversations/{conversation}")).json()
    carried = [[f["name"] for f in m["files"]] for m in detail["messages"]]
    assert carried == [["أحمر.png", "تقرير.pdf"], [], [], [], ["أزرق.png"], []], carried
    shown = detail["messages"][0]["files"][0]
    assert shown["content_type"] == "image/png" and shown["content_url"] == f"/v1/files/{red.file_id}/content"
    assert (await me.client.get(shown["content_url"], params={"inline": 1})).status_code == 302

    # a model that can't see images gets a note naming each one instead
    async with db.reader() as session:
        turn = (
            (
                await session.execute(
                    select(Job.id).where(Job.user_id == me.user_id).order_by(Job.created_at.desc())
                )
            )
            .scalars()
            .first()
        )
        assert turn is not None
        history = await turn_history(session, turn)
    store = LocalStorage(settings.storage_dir, settings.secret_key.get_secret_value())
    blind = await Attachments(db, store).prepare(history, 100_000, vision=False)
    assert not any(message.images for message in blind)
    assert "[image: أحمر.png]" in blind[0].content and "[image: أزرق.png]" in blind[-1].content
    seeing = await Attachments(db, store).prepare(history, 100_000, vision=True)
    assert [len(message.images) for message in seeing] == [1, 0, 0, 0, 1]
    assert "twelve percent" in seeing[0].content and seeing[-1].content == "قارن بين الصورتين"


def test_the_history_fits_the_context_window() -> None:
    """Newest first: the current question and its files stay; an older document is cut to what
    is left; images beyond the cap become notes; a model without vision gets notes only."""
    from activities.attachments import IMAGE_TOKENS, MAX_IMAGES, _Entry, fit
    from core.chat import estimate_tokens
    from providers.llm import ImagePart

    image = ImagePart("image/png", png_bytes())
    old = _Entry("user", "old question", documents=["[a.pdf]\n" + "word " * 4000])
    reply = _Entry("assistant", "old answer")
    new = _Entry("user", "new question", images=[(f"p{i}.png", image) for i in range(MAX_IMAGES + 2)])
    budget = 3000 + IMAGE_TOKENS * MAX_IMAGES
    sent = fit([old, reply, new], budget)
    assert [m.content for m in sent][1:] == ["old answer", sent[2].content]
    assert len(sent[2].images) == MAX_IMAGES and sent[2].content.count("[image: p") == 2
    assert sent[0].content.endswith("old question") and "[a.pdf]" in sent[0].content
    assert sum(estimate_tokens(m.content) for m in sent) + IMAGE_TOKENS * MAX_IMAGES <= budget
    assert len(sent[0].content) < len(old.documents[0])  # cut, not dropped
    tight = fit([old, reply, _Entry("user", "new question")], estimate_tokens("new question"))
    assert [m.content for m in tight] == ["new question"]  # the newest always stays
