"""Slide decks on the shared job saga (``workflows/pipeline.py``), queue ``documents``:

- ``SlideDeckWorkflow`` (id ``slides-<job>``): reserve tokens → outline (structured output) →
  **wait for the person's approved outline** (the ``approve_outline`` Update, validated before it
  is accepted; a durable timer ends an abandoned deck) → content per slide, in parallel batches →
  fit check (bounded rewrites) → render PPTX + PDF twin + thumbnails (stored) → settle → done.
- ``SlideRegenerateWorkflow`` (id ``slides-regen-<job>``): one slide written again, fitted and
  the deck re-rendered as a new version, metered alone.

A cancel or an abandoned outline bills the tokens already used (the outline, finished slides)
and releases the rest of the reservation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.ledger import SettleInput, SettleOutput
    from activities.slides import (
        ContentInput,
        FitInput,
        LoadOutput,
        OutlineInput,
        OutlineOutput,
        RecordInput,
        RenderInput,
        RenderOutput,
        SlideOutput,
        SlidesActivities,
    )
    from core.slides.model import Outline
    from workflows.pipeline import JobFailed, JobOutcome, JobRef, JobResult, JobSaga, _bookkeeping

PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
    non_retryable_error_types=["provider_error", "invalid_input", "content_refused"],
)
LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3)
RECORD_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=0)
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
BATCH = 4  # slides written at once
APPROVE_OUTLINE = "approve_outline"
OUTLINE_EXPIRED = "The outline was not approved in time; the deck was closed."


def deck_workflow_id(job_id: str) -> str:
    return f"slides-{job_id}"


def regenerate_workflow_id(job_id: str) -> str:
    return f"slides-regen-{job_id}"


@dataclass
class SlideDeckInput:
    job_id: str
    user_id: str
    deck_id: str
    ui_locale: str
    brief: dict[str, Any]
    model: str
    reserve_tokens: int
    outline_timeout_s: int = 24 * 3600


@dataclass
class RegenerateInput:
    job_id: str
    user_id: str
    deck_id: str
    ui_locale: str
    index: int  # 0-based
    model: str
    reserve_tokens: int


@dataclass
class Usage:
    tokens: int = 0
    per_slide: dict[int, int] = field(default_factory=dict)


async def _llm(activity: Any, arg: Any) -> Any:
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=timedelta(minutes=3),
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        retry_policy=PROVIDER_RETRY,
    )


async def _record(deck_id: str, status: str, outline: dict[str, Any] | None = None) -> None:
    await workflow.execute_activity_method(
        SlidesActivities.record,
        RecordInput(deck_id, status, outline),
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RECORD_RETRY,
    )


async def _render(data: RenderInput) -> RenderOutput:
    return await workflow.execute_activity_method(
        SlidesActivities.render,
        data,
        start_to_close_timeout=timedelta(minutes=5),
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        retry_policy=LOCAL_RETRY,
    )


async def _bill_used(saga: JobSaga, used: int) -> None:
    """On a cancel or an expired outline: settle what was used, the saga releases the rest."""
    if "tokens" in saga.reserved:
        await _bookkeeping("ledger.settle", SettleInput(saga.ledger_key("tokens"), used), SettleOutput)
        saga.reserved.pop("tokens")


@workflow.defn(name="SlideDeckWorkflow")
class SlideDeckWorkflow:
    def __init__(self) -> None:
        self.outline: dict[str, Any] | None = None  # the model's draft
        self.approved: dict[str, Any] | None = None  # the person's edited outline
        self.usage = Usage()

    @workflow.query(name="outline")
    def current_outline(self) -> dict[str, Any] | None:
        return self.approved or self.outline

    @workflow.update(name=APPROVE_OUTLINE)
    async def approve_outline(self, outline: dict[str, Any]) -> dict[str, Any]:
        self.approved = Outline.model_validate(outline).model_dump(mode="json")
        return {"accepted": True, "slides": len(self.approved["slides"])}

    @approve_outline.validator
    def _validate_outline(self, outline: dict[str, Any]) -> None:
        """Rejected before it enters history: no draft yet, already approved, or invalid."""
        if self.outline is None or self.approved is not None:
            raise ValueError("outline_not_awaited")
        Outline.model_validate(outline)  # a ValidationError rejects the update

    @workflow.run
    async def run(self, data: SlideDeckInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "slides", workflow.info().workflow_id), locale=data.ui_locale
        )

        async def cleanup(code: str) -> None:
            await _bill_used(saga, self.usage.tokens)
            status = {"cancelled": "cancelled", "outline_expired": "expired"}.get(code, "failed")
            await _record(data.deck_id, status)

        return await saga.run(lambda: self._work(saga, data), on_failure=cleanup)

    async def _work(self, saga: JobSaga, data: SlideDeckInput) -> JobResult:
        await saga.reserve("tokens", data.reserve_tokens)
        await saga.step("outline")
        drafted: OutlineOutput = await _llm(
            SlidesActivities.outline, OutlineInput(data.job_id, data.brief, data.model)
        )
        self.usage.tokens += drafted.tokens
        await _record(data.deck_id, "awaiting_outline", drafted.outline)
        self.outline = drafted.outline
        await saga.step("awaiting_outline", slides=len(drafted.outline["slides"]))
        try:
            await workflow.wait_condition(
                lambda: self.approved is not None, timeout=timedelta(seconds=data.outline_timeout_s)
            )
        except TimeoutError:
            raise JobFailed("outline_expired", OUTLINE_EXPIRED) from None
        outline = self.approved or drafted.outline
        await _record(data.deck_id, "generating", outline)
        slides = await self._content(saga, data, outline)
        await saga.step("render")
        brief = data.brief
        rendered = await _render(
            RenderInput(
                data.deck_id,
                data.job_id,
                data.user_id,
                outline["title"],
                brief["language"],
                brief.get("theme", "ocean"),
                brief.get("digits", "latin"),
                slides,
            )
        )
        return JobResult(
            outputs=rendered.outputs,
            usage={"tokens": self.usage.tokens},
            result={
                "deck_id": data.deck_id,
                "version": rendered.version,
                "slides": len(slides),
                "shortened": rendered.shortened,
                "overflow": rendered.overflow,
            },
        )

    async def _content(
        self, saga: JobSaga, data: SlideDeckInput, outline: dict[str, Any]
    ) -> list[dict[str, Any]]:
        total = len(outline["slides"])
        brief = data.brief
        written: list[dict[str, Any]] = []
        await saga.step("content", done=0, total=total)
        for start in range(0, total, BATCH):
            indexes = range(start, min(start + BATCH, total))
            drafts: list[SlideOutput] = await asyncio.gather(
                *(
                    _llm(SlidesActivities.content, ContentInput(data.job_id, brief, outline, i, data.model))
                    for i in indexes
                )
            )
            for i, draft in zip(indexes, drafts, strict=True):
                self.usage.tokens += draft.tokens
                self.usage.per_slide[i] = draft.tokens
            fitted: list[SlideOutput] = await asyncio.gather(
                *(
                    _llm(
                        SlidesActivities.fit,
                        FitInput(
                            data.job_id, brief["language"], brief.get("tone", "formal"), d.slide, data.model
                        ),
                    )
                    for d in drafts
                )
            )
            for fit in fitted:
                self.usage.tokens += fit.tokens
                written.append(fit.slide)
            await saga.step("content", done=len(written), total=total)
        return written


@workflow.defn(name="SlideRegenerateWorkflow")
class SlideRegenerateWorkflow:
    @workflow.run
    async def run(self, data: RegenerateInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "slides", workflow.info().workflow_id), locale=data.ui_locale
        )
        used = Usage()

        async def work() -> JobResult:
            await saga.reserve("tokens", data.reserve_tokens)
            await saga.step("regenerate", slide=data.index + 1)
            deck: LoadOutput = await workflow.execute_activity_method(
                SlidesActivities.load,
                data.deck_id,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LOCAL_RETRY,
            )
            if not 0 <= data.index < len(deck.slides):
                raise JobFailed("invalid_input")
            draft: SlideOutput = await _llm(
                SlidesActivities.content,
                ContentInput(data.job_id, deck.brief, deck.outline, data.index, data.model),
            )
            used.tokens += draft.tokens
            brief = deck.brief
            fit: SlideOutput = await _llm(
                SlidesActivities.fit,
                FitInput(
                    data.job_id, brief["language"], brief.get("tone", "formal"), draft.slide, data.model
                ),
            )
            used.tokens += fit.tokens
            slides = list(deck.slides)
            slides[data.index] = fit.slide
            await saga.step("render")
            rendered = await _render(
                RenderInput(
                    data.deck_id,
                    data.job_id,
                    data.user_id,
                    deck.outline["title"],
                    brief["language"],
                    brief.get("theme", "ocean"),
                    brief.get("digits", "latin"),
                    slides,
                )
            )
            return JobResult(
                outputs=rendered.outputs,
                usage={"tokens": used.tokens},
                result={"deck_id": data.deck_id, "version": rendered.version, "slide": data.index + 1},
            )

        async def cleanup(code: str) -> None:
            await _bill_used(saga, used.tokens)

        return await saga.run(work, on_failure=cleanup)
