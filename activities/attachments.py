"""A chat turn's attached files, made into what the model receives: images as image parts of
the turn's message (models with ``vision``), documents as text in front of the question —
trimmed by the same context-window rule as the history (the newest message always stays, older
history goes first, then the documents' text is cut to what is left)."""

from __future__ import annotations

import asyncio

from core import files
from core.chat import estimate_tokens, trim_history
from core.db import Database
from core.extract import extract_text, extractable
from providers.llm import ImagePart
from providers.storage import ASSETS, Storage

Messages = list[tuple[str, str]]


class Attachments:
    def __init__(self, db: Database, storage: Storage) -> None:
        self.db = db
        self.storage = storage

    async def prepare(
        self, turn_id: str, messages: Messages, budget: int
    ) -> tuple[Messages, tuple[ImagePart, ...]]:
        async with self.db.reader() as session:
            attached = await files.job_files(session, turn_id)
        if not attached:
            return messages, ()
        images: list[ImagePart] = []
        documents: list[str] = []
        for row in attached:
            data = await self.storage.get(ASSETS, row.key)
            if row.content_type.startswith("image/"):
                images.append(ImagePart(row.content_type, data))
            elif extractable(row.content_type):
                text = await asyncio.to_thread(extract_text, data, row.content_type)
                documents.append(f"[{row.name}]\n{text}")
        return with_documents(messages, documents, budget), tuple(images)


def with_documents(messages: Messages, documents: list[str], budget: int) -> Messages:
    """Put the documents' text before the last (user) message, within the budget."""
    if not documents:
        return messages
    *history, (role, question) = messages
    context = "\n\n".join(documents)
    room = budget - estimate_tokens(question)
    cost = estimate_tokens(context)
    if cost > room > 0:
        context = context[: max(0, int(len(context) * room / cost) - 16)]
    elif room <= 0:
        context = ""
    merged = f"{context}\n\n{question}" if context else question
    return trim_history([*history, (role, merged)], budget)
