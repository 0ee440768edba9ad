"""CV activities: AI assist (structured output, validated, retried on a bad reply), render,
the text self-check and the page-1 thumbnail. Inputs and outputs are ids, options and storage
keys; the CV itself is read from the database or storage inside the activity, so its text never
travels in workflow payloads, search attributes or logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.jobs import OutputRef
from core.catalog import resolve_model
from core.cv import service
from core.cv.assist import AssistAction, AssistRequest, InvalidReply, build_prompt, parse_reply, suggestion
from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.db import Database
from core.settings import Settings
from providers.llm import LLMClient
from providers.llm.errors import NonRetryableProviderError, RetryableProviderError
from providers.llm.types import ChatMessage, ChatRequest
from providers.storage import ASSETS, Storage, object_key

log = structlog.get_logger(__name__)
HEARTBEAT_EVERY_S = 2.0  # the workflow's heartbeat timeout is 10 s: a killed worker is noticed fast
REPLY_ATTEMPTS = 3  # a reply that breaks the schema is asked again, at most this many times
PDF, PNG, JSON = "application/pdf", "image/png", "application/json"
T = TypeVar("T")


@dataclass
class CvSource:
    """Where the CV to use lives: a saved version, or a JSON document in storage (a translation)."""

    user_id: str
    cv_id: str
    version: int
    content_key: str | None = None


@dataclass
class AssistInput:
    job_id: str
    source: CvSource
    action: str
    target_locale: str
    model: str
    notes: str = ""  # the person's own notes / a job description: personal data (payload codec)
    work_index: int | None = None
    job_description: str = ""
    output_name: str = "suggestion.json"  # translate inside a render stores "cv-<locale>.json"


@dataclass
class AssistOutput:
    output: OutputRef
    studio_tokens: int
    attempts: int


@dataclass
class RenderInput:
    job_id: str
    source: CvSource
    template: str
    locale: str
    paper: str
    digits: str
    bilingual: bool
    photo_key: str | None = None
    tagged: bool = False


@dataclass
class RenderOutput:
    output: OutputRef
    pages: int


@dataclass
class CheckInput:
    source: CvSource
    pdf: OutputRef
    locale: str
    digits: str
    bilingual: bool


@dataclass
class CheckOutput:
    ok: bool
    words: int
    missing: list[str] = field(default_factory=list)  # field kinds, never their text
    out_of_order: list[str] = field(default_factory=list)


@dataclass
class ThumbnailInput:
    job_id: str
    user_id: str
    pdf: OutputRef


async def heartbeating(work: Awaitable[T]) -> T:
    """Await ``work`` while heartbeating, so a worker that dies mid-step (kill -9) is noticed
    by its heartbeat timeout and the step retried elsewhere, not after start-to-close."""
    task = asyncio.ensure_future(work)
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return task.result()
        activity.heartbeat()


def studio_tokens(provider_tokens: int, weight: float) -> int:
    return max(1, -(-int(provider_tokens * weight * 1000) // 1000))


class CvActivities:
    def __init__(self, settings: Settings, db: Database, llm: LLMClient, storage: Storage) -> None:
        self.settings = settings
        self.db = db
        self.llm = llm
        self.storage = storage

    async def _content(self, source: CvSource) -> CvContent:
        if source.content_key:
            return CvContent.model_validate_json(await self.storage.get(ASSETS, source.content_key))
        async with self.db.session() as session:
            return (await service.get_cv(session, source.user_id, source.cv_id, source.version)).content

    async def _store(self, job_id: str, user_id: str, name: str, data: bytes, content_type: str) -> OutputRef:
        key = object_key(user_id, "cv", job_id, name)  # keyed by job: a retry overwrites
        info = await self.storage.put(ASSETS, key, data, content_type)
        return OutputRef(name=name, key=key, content_type=info.content_type, size=info.size)

    @activity.defn(name="cv.assist")
    async def assist(self, data: AssistInput) -> AssistOutput:
        cv = await self._content(data.source)
        request = AssistRequest(
            AssistAction(data.action), data.target_locale, data.notes, data.work_index, data.job_description
        )
        if request.action is AssistAction.draft_bullets and not (0 <= (data.work_index or 0) < len(cv.work)):
            raise ApplicationError("no such role", type="invalid_input", non_retryable=True)
        prompt = build_prompt(cv, request)
        weight = resolve_model(data.model, self.settings).token_weight
        chat = ChatRequest(
            model=data.model,
            messages=[ChatMessage(role, text) for role, text in prompt.messages()],  # type: ignore[arg-type]
            max_output_tokens=prompt.max_output_tokens,
            json_schema=prompt.schema,
        )
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            text, usage = await heartbeating(self._complete(chat))
            try:
                reply = parse_reply(prompt, text)
            except InvalidReply as error:
                # the provider's fault: not billed to the person; the cost is logged for operators
                log.warning(
                    "cv.assist.invalid_reply",
                    job_id=data.job_id,
                    attempt=attempt,
                    error=str(error),
                    unbilled_tokens=usage.input_tokens + usage.output_tokens,
                )
                continue
            document = suggestion(cv, request, reply)
            body = document["content"] if data.output_name != "suggestion.json" else document
            output = await self._store(
                data.job_id,
                data.source.user_id,
                data.output_name,
                json.dumps(body, ensure_ascii=False).encode(),
                JSON,
            )
            tokens = studio_tokens(usage.input_tokens + usage.output_tokens, weight)
            return AssistOutput(output=output, studio_tokens=tokens, attempts=attempt)
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

    # WeasyPrint, pypdf and pdfium are imported by the steps that use them: every worker
    # process (chat's too) registers these activities, few of them ever render a CV.
    @activity.defn(name="cv.render")
    async def render(self, data: RenderInput) -> RenderOutput:
        from core.cv.render import RenderOptions, render_pdf

        cv = await self._content(data.source)
        photo = await self.storage.get(ASSETS, data.photo_key) if data.photo_key else None
        options = RenderOptions(
            Template(data.template), data.locale, data.paper, data.digits, data.bilingual, data.tagged
        )
        rendered = await heartbeating(asyncio.to_thread(render_pdf, cv, options, photo))
        output = await self._store(data.job_id, data.source.user_id, "cv.pdf", rendered.pdf, PDF)
        return RenderOutput(output=output, pages=rendered.pages)

    @activity.defn(name="cv.check")
    async def check(self, data: CheckInput) -> CheckOutput:
        from core.cv.textcheck import check_text

        cv = await self._content(data.source)
        pdf = await self.storage.get(ASSETS, data.pdf.key)
        result = await heartbeating(
            asyncio.to_thread(check_text, pdf, cv, Words(data.locale, data.digits), bilingual=data.bilingual)
        )
        if not result.ok:
            log.error("cv.check.failed", missing=result.missing, out_of_order=result.out_of_order)
        return CheckOutput(result.ok, result.words, result.missing, result.out_of_order)

    @activity.defn(name="cv.thumbnail")
    async def thumbnail(self, data: ThumbnailInput) -> OutputRef:
        from core.cv.textcheck import thumbnail_png

        pdf = await self.storage.get(ASSETS, data.pdf.key)
        png = await heartbeating(asyncio.to_thread(thumbnail_png, pdf))
        return await self._store(data.job_id, data.user_id, "page-1.png", png, PNG)
