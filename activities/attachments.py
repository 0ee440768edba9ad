"""A chat turn's conversation with the files its messages carried, made into what the model
receives: every user message in the history keeps its own attachments (an image sent three
turns ago is still seen), images as image parts (models with ``vision``; for other models a
note names them), documents as text in front of their message.

Trimmed by the history's context-window rule, newest first: a message's own text stays whole
(the newest always stays), its documents are cut to what is left, and the first older message
that no longer fits ends the history. At most ``MAX_IMAGES`` images are sent; older ones become
notes."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field

import structlog

from core import files
from core.chat import estimate_tokens, trim_history
from core.db import Database
from core.extract import extract_text, extractable
from core.models import StoredFile
from providers.llm import ChatMessage, ImagePart
from providers.storage import ASSETS, ObjectMissing, Storage

History = list[tuple[str, str, str]]  # (role, content, turn id), oldest first
MAX_IMAGES = 20  # images sent with one request (the newest ones)
IMAGE_TOKENS = 1600  # what one image may cost upstream (Anthropic's figure, the largest)
TEXT_CACHE = 32  # extracted documents kept in memory (files never change once ready)
log = structlog.get_logger()


@dataclass
class _Entry:
    role: str
    content: str
    images: list[tuple[str, ImagePart]] = field(default_factory=list)  # (name, image)
    documents: list[str] = field(default_factory=list)


class Attachments:
    def __init__(self, db: Database, storage: Storage) -> None:
        self.db = db
        self.storage = storage
        self._texts: OrderedDict[str, str] = OrderedDict()

    async def prepare(
        self, history: History, budget: int, *, vision: bool, carrying: Collection[str] | None = None
    ) -> list[ChatMessage]:
        """The messages to send: the history within ``budget``, each user message with its files.
        ``carrying``: the turns known to have files (read with the history, ``turn_history_files``);
        when none of the window's do, no lookup is made. None: look every user message up."""
        window = history[len(history) - len(trim_history([(r, c) for r, c, _ in history], budget)) :]
        turn_ids = [turn for role, _content, turn in window if role == "user"]
        if carrying is not None:
            turn_ids = [turn for turn in turn_ids if turn in carrying]
        attached: dict[str, list[StoredFile]] = {}
        if turn_ids:
            async with self.db.reader() as session:
                attached = await files.files_of_jobs(session, turn_ids)
        if not attached:
            return [ChatMessage(role=role, content=content) for role, content, _ in window]  # type: ignore[arg-type]
        entries: list[_Entry] = []
        for role, content, turn in window:
            entry = _Entry(role, content)
            for row in attached.get(turn, []) if role == "user" else []:
                await self._load(entry, row, vision)
            entries.append(entry)
        return fit(entries, budget)

    async def _load(self, entry: _Entry, row: StoredFile, vision: bool) -> None:
        try:
            if row.content_type.startswith("image/"):
                if vision:
                    data = await self.storage.get(ASSETS, row.key)
                    entry.images.append((row.name, ImagePart(row.content_type, data)))
                else:
                    entry.documents.append(image_note(row.name))
            elif extractable(row.content_type):
                entry.documents.append(f"[{row.name}]\n{await self._text(row)}")
        except ObjectMissing:  # deleted while the turn started: sent without it
            log.info("attachments.missing", file_id=row.id)

    async def _text(self, row: StoredFile) -> str:
        text = self._texts.get(row.id)
        if text is None:
            data = await self.storage.get(ASSETS, row.key)
            text = await asyncio.to_thread(extract_text, data, row.content_type)
            self._texts[row.id] = text
            while len(self._texts) > TEXT_CACHE:
                self._texts.popitem(last=False)
        self._texts.move_to_end(row.id)
        return text


def image_note(name: str) -> str:
    return f"[image: {name}]"


def fit(entries: list[_Entry], budget: int) -> list[ChatMessage]:
    """Newest first within ``budget``: a message's text whole, its documents cut to what is left,
    its images counted; stop at the first older message that does not fit."""
    kept: list[ChatMessage] = []
    used = 0
    images_left = MAX_IMAGES
    for entry in reversed(entries):
        images = [image for _name, image in entry.images[:images_left]]
        notes = [image_note(name) for name, _image in entry.images[len(images) :]]
        cost = estimate_tokens(entry.content) + IMAGE_TOKENS * len(images)
        if kept and used + cost > budget:
            break
        context = cut("\n\n".join(notes + entry.documents), budget - used - cost)
        content = f"{context}\n\n{entry.content}" if context else entry.content
        used += cost + (estimate_tokens(context) if context else 0)
        images_left -= len(images)
        kept.append(ChatMessage(role=entry.role, content=content, images=tuple(images)))  # type: ignore[arg-type]
    return list(reversed(kept))


def cut(context: str, room: int) -> str:
    """``context`` shortened to about ``room`` tokens (nothing when there is no room)."""
    if not context or room <= 0:
        return ""
    cost = estimate_tokens(context)
    if cost <= room:
        return context
    return context[: max(0, int(len(context) * room / cost) - 16)]
