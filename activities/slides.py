"""Slide-deck activities: the outline and each slide's content (structured output, validated,
asked again on a bad reply — the CV studio's contract), the fit check with bounded rewrites,
and the render (PPTX + PDF twin + thumbnails, stored, recorded as a new version)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from pydantic import BaseModel
from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.cv import REPLY_ATTEMPTS, heartbeating, studio_tokens
from activities.jobs import OutputRef
from core.catalog import resolve_model
from core.cv.assist import InvalidReply
from core.db import Database
from core.models import SlideDeck
from core.settings import Settings
from core.slides import prompts
from core.slides.fit import overflowing
from core.slides.layouts import boxes, panel
from core.slides.model import Brief, Deck, Outline, SlideContent
from core.slides.pdf import render_pdf, thumbnails
from core.slides.pictures import fit_to_panel
from core.slides.pptx import render_pptx
from providers.llm import LLMClient
from providers.llm.errors import NonRetryableProviderError, RetryableProviderError
from providers.llm.types import ChatMessage, ChatRequest
from providers.storage import ASSETS, ObjectMissing, Storage, object_key

log = structlog.get_logger(__name__)
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@dataclass
class OutlineInput:
    job_id: str
    brief: dict[str, Any]
    model: str


@dataclass
class OutlineOutput:
    outline: dict[str, Any]
    tokens: int


@dataclass
class RecordInput:
    deck_id: str
    status: str
    outline: dict[str, Any] | None = None


@dataclass
class ContentInput:
    job_id: str
    brief: dict[str, Any]
    outline: dict[str, Any]
    index: int
    model: str


@dataclass
class FitInput:
    job_id: str
    language: str
    tone: str
    slide: dict[str, Any]
    model: str
    rewrite: bool = True  # False: the person's own words — measured (sizes shrink), never rewritten


@dataclass
class SlideOutput:
    slide: dict[str, Any]
    tokens: int
    overflow: bool = False


@dataclass
class RenderInput:
    deck_id: str
    job_id: str
    user_id: str
    title: str
    language: str
    theme: str
    digits: str
    slides: list[dict[str, Any]]


@dataclass
class RenderOutput:
    outputs: list[OutputRef]
    version: int
    overflow: list[int] = field(default_factory=list)  # 1-based slide numbers still too long
    shortened: list[int] = field(default_factory=list)


@dataclass
class LoadOutput:
    brief: dict[str, Any]
    outline: dict[str, Any]
    slides: list[dict[str, Any]]


class SlidesActivities:
    def __init__(self, settings: Settings, db: Database, llm: LLMClient, storage: Storage) -> None:
        self.settings = settings
        self.db = db
        self.llm = llm
        self.storage = storage

    async def _structured(self, job_id: str, model: str, prompt: prompts.Prompt) -> tuple[BaseModel, int]:
        """One structured-output call; a reply that breaks the schema is asked again (not billed)."""
        weight = resolve_model(model, self.settings).token_weight
        chat = ChatRequest(
            model=model,
            messages=[ChatMessage(role, text) for role, text in prompt.messages()],  # type: ignore[arg-type]
            max_output_tokens=prompt.max_output_tokens,
            json_schema=prompt.schema,
        )
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            text, usage = await heartbeating(self._complete(chat))
            try:
                reply = prompts.parse(prompt, text)
            except InvalidReply as error:
                log.warning("slides.invalid_reply", job_id=job_id, attempt=attempt, error=str(error))
                continue
            return reply, studio_tokens(usage.input_tokens + usage.output_tokens, weight)
        raise ApplicationError(
            "the model's replies broke the schema", type="provider_error", non_retryable=True
        )

    async def _complete(self, chat: ChatRequest) -> tuple[str, Any]:
        try:
            return await self.llm.complete(chat)
        except RetryableProviderError as error:
            delay = timedelta(seconds=error.retry_after) if error.retry_after else None
            raise ApplicationError(str(error), type="provider_retryable", next_retry_delay=delay) from None
        except NonRetryableProviderError as error:
            raise ApplicationError(str(error), type="provider_error", non_retryable=True) from None

    @activity.defn(name="slides.outline")
    async def outline(self, data: OutlineInput) -> OutlineOutput:
        brief = Brief.model_validate(data.brief)
        prompt = prompts.outline_prompt(brief)
        reply, tokens = await self._structured(data.job_id, data.model, prompt)
        outline = prompts.normalise_outline(reply, brief.slides)
        return OutlineOutput(outline=outline.model_dump(mode="json"), tokens=tokens)

    @activity.defn(name="slides.record")
    async def record(self, data: RecordInput) -> None:
        async with self.db.session() as session:
            deck = await session.get(SlideDeck, data.deck_id)
            if deck is None:
                return
            deck.status = data.status
            if data.outline is not None:
                deck.outline = data.outline
                deck.title = str(data.outline.get("title", ""))[:200]
            await session.commit()

    @activity.defn(name="slides.content")
    async def content(self, data: ContentInput) -> SlideOutput:
        brief = Brief.model_validate(data.brief)
        outline = Outline.model_validate(data.outline)
        slide = outline.slides[data.index]
        reply, tokens = await self._structured(
            data.job_id, data.model, prompts.content_prompt(brief, outline, data.index)
        )
        content = prompts.apply_content(slide.layout, slide.heading, reply)
        return SlideOutput(slide=content.model_dump(mode="json"), tokens=tokens)

    @activity.defn(name="slides.fit")
    async def fit(self, data: FitInput) -> SlideOutput:
        """Measure every box; a slide that does not fit even at its floor sizes is rewritten
        shorter by the model, at most ``SHORTEN_ATTEMPTS`` times, then flagged (never clipped)."""
        slide = SlideContent.model_validate(data.slide)
        tokens = 0
        for attempt in range(1, prompts.SHORTEN_ATTEMPTS + 1 if data.rewrite else 1):
            too_long = overflowing(boxes(slide))
            if not too_long:
                break
            log.info("slides.fit.shorten", job_id=data.job_id, attempt=attempt, boxes=too_long)
            prompt = prompts.shorten_prompt(data.language, data.tone, slide, attempt)
            reply, used = await self._structured(data.job_id, data.model, prompt)
            tokens += used
            slide = prompts.apply_content(slide.layout, slide.heading, reply).model_copy(
                update={"shortened": True}
            )
        overflow = bool(overflowing(boxes(slide)))
        return SlideOutput(slide=slide.model_dump(mode="json"), tokens=tokens, overflow=overflow)

    @activity.defn(name="slides.render")
    async def render(self, data: RenderInput) -> RenderOutput:
        deck = Deck(
            title=data.title,
            language=data.language,
            theme=data.theme,
            digits=data.digits,
            slides=[SlideContent.model_validate(s) for s in data.slides],
        )
        pictures = await self._pictures(deck)
        pptx = await heartbeating(asyncio.to_thread(render_pptx, deck, pictures))
        pdf = await heartbeating(asyncio.to_thread(render_pdf, deck, pictures))
        pngs = await heartbeating(asyncio.to_thread(thumbnails, pdf))
        outputs = [
            await self._store(data, "deck.pptx", pptx, PPTX),
            await self._store(data, "deck.pdf", pdf, "application/pdf"),
            await self._store(
                data,
                "deck.json",
                json.dumps(deck.model_dump(mode="json"), ensure_ascii=False).encode(),
                "application/json",
            ),
        ]
        for i, png in enumerate(pngs, start=1):
            outputs.append(await self._store(data, f"slide-{i:02d}.png", png, "image/png"))
        overflow = [i for i, s in enumerate(deck.slides, start=1) if overflowing(boxes(s))]
        shortened = [i for i, s in enumerate(deck.slides, start=1) if s.shortened]
        version = await self._add_version(data, deck, overflow)
        return RenderOutput(outputs=outputs, version=version, overflow=overflow, shortened=shortened)

    async def _pictures(self, deck: Deck) -> dict[int, bytes]:
        """Each slide's stored picture, cut to its panel (one deleted meanwhile is left out)."""
        out: dict[int, bytes] = {}
        for i, slide in enumerate(deck.slides):
            rect = panel(slide)
            if not slide.image_key or rect is None:
                continue
            try:
                data = await self.storage.get(ASSETS, slide.image_key)
            except ObjectMissing:
                log.warning("slides.picture_missing", key=slide.image_key)
                continue
            out[i] = await asyncio.to_thread(fit_to_panel, data, rect[2], rect[3])
        return out

    async def _store(self, data: RenderInput, name: str, body: bytes, content_type: str) -> OutputRef:
        key = object_key(data.user_id, "slides", data.job_id, name)  # keyed by job: a retry overwrites
        info = await self.storage.put(ASSETS, key, body, content_type)
        return OutputRef(name=name, key=key, content_type=info.content_type, size=info.size)

    async def _add_version(self, data: RenderInput, deck: Deck, overflow: list[int]) -> int:
        async with self.db.session() as session:
            row = (
                await session.execute(select(SlideDeck).where(SlideDeck.id == data.deck_id).with_for_update())
            ).scalar_one()
            existing = next((v for v in row.versions if v["job_id"] == data.job_id), None)
            if existing is not None:  # a retried render: the same version
                return int(existing["version"])
            version = row.version + 1
            summary = [
                {
                    "index": i,
                    "heading": s.heading,
                    "layout": s.layout.value,
                    "shortened": s.shortened,
                    "overflow": i + 1 in overflow,
                    "image": bool(s.image_key),
                }
                for i, s in enumerate(deck.slides)
            ]
            row.versions = [*row.versions, {"version": version, "job_id": data.job_id, "slides": summary}]
            row.version = version
            row.status = "ready"
            await session.commit()
            return version

    @activity.defn(name="slides.load")
    async def load(self, deck_id: str) -> LoadOutput:
        """The deck's latest rendered content (for regenerating one slide)."""
        async with self.db.session() as session:
            row = await session.get(SlideDeck, deck_id)
            if row is None or not row.versions:
                raise ApplicationError("no rendered deck", type="invalid_input", non_retryable=True)
            job_id = row.versions[-1]["job_id"]
            brief, outline, user_id = row.brief, row.outline or {}, row.user_id
        body = await self.storage.get(ASSETS, object_key(user_id, "slides", job_id, "deck.json"))
        return LoadOutput(brief=brief, outline=outline, slides=json.loads(body)["slides"])
