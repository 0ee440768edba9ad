"""Slide decks on the shared job saga (``workflows/pipeline.py``), queue ``documents``:

- ``SlideDeckWorkflow`` (id ``slides-<job>``): reserve tokens → outline (structured output) →
  **wait for the person's approved outline** (the ``approve_outline`` Update, validated before it
  is accepted; a durable timer ends an abandoned deck) → content per slide, in parallel batches →
  fit check (bounded rewrites) → render PPTX + PDF twin + thumbnails (stored) → settle → done.
- ``SlideRegenerateWorkflow`` (id ``slides-regen-<job>``): one slide written again, fitted and
  the deck re-rendered as a new version, metered alone; with the person's own words for a slide
  (id ``slides-edit-<job>``) no model is called: measured, re-exported as a new version, free.

A cancel or an abandoned outline bills the tokens already used (the outline, finished slides)
and releases the rest of the reservation."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import CancelledError, ChildWorkflowError
from temporalio.workflow import ChildWorkflowCancellationType, ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.images import ImageJobInput
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
    from core.slides.pictures import image_prompt
    from workflows import PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_MODEL, PULSE_PROVIDER, PULSE_USER_ID
    from workflows.images import ImageJobWorkflow, image_workflow_id
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


def edit_workflow_id(job_id: str) -> str:
    return f"slides-edit-{job_id}"


@dataclass
class DeckImages:
    """The image studio's model a deck's pictures are made with (each one an image job)."""

    model: str
    provider: str
    size: str
    cost: int  # images units per picture
    task_queue: str  # the media queue
    long_job: bool = False
    first_poll_s: float = 1.0
    max_poll_s: float = 10.0


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
    images: DeckImages | None = None  # None: no pictures (the panel stays a plain shape)


@dataclass
class RegenerateInput:
    job_id: str
    user_id: str
    deck_id: str
    ui_locale: str
    index: int  # 0-based
    model: str
    reserve_tokens: int
    edit: dict[str, Any] | None = None  # the person's own words for the slide: re-exported as they are


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
        self.pictures: dict[int, ChildWorkflowHandle[Any, JobOutcome]] = {}  # slide index → image job

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
        missing = await self._collect_pictures(saga, slides)
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
                "images": len(self.pictures) - len(missing),
                "images_missing": missing,
            },
        )

    async def _start_picture(self, data: SlideDeckInput, index: int, slide: dict[str, Any]) -> None:
        """An image + text slide's picture: an image job of its own (the image pipeline, billed
        in images by it), started as soon as the slide is written."""
        images = data.images
        if images is None or slide["layout"] != "image_text" or not slide.get("image_prompt"):
            return
        job_id = workflow.uuid4().hex
        job = ImageJobInput(
            job_id=job_id,
            user_id=data.user_id,
            model=images.model,
            prompt=image_prompt(slide["image_prompt"]),
            size=images.size,
            cost=images.cost,
            locale=data.ui_locale,
            provider=images.provider,
            long_job=images.long_job,
            first_poll_s=images.first_poll_s,
            max_poll_s=images.max_poll_s,
        )
        self.pictures[index] = await workflow.start_child_workflow(
            ImageJobWorkflow.run,
            job,
            id=image_workflow_id(job_id),
            task_queue=images.task_queue,
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            # a cancelled deck stops at once; the image job hears the cancel and releases its images
            # (waiting for it instead would hand the deck the child's normal "cancelled" outcome)
            cancellation_type=ChildWorkflowCancellationType.TRY_CANCEL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, data.user_id),
                    SearchAttributePair(PULSE_JOB_KIND, "image"),
                    SearchAttributePair(PULSE_PROVIDER, images.provider),
                    SearchAttributePair(PULSE_MODEL, images.model),
                    SearchAttributePair(PULSE_JOB_STATUS, "running"),
                ]
            ),
            static_summary=f"image · {images.model} · slide {index + 1} of {data.deck_id}",
        )

    async def _collect_pictures(self, saga: JobSaga, slides: list[dict[str, Any]]) -> list[int]:
        """Wait for the pictures; each stored one goes on its slide. A picture that could not be
        made (no images left, refused, failed) leaves the slide's panel plain: 1-based numbers."""
        if not self.pictures:
            return []
        await saga.step("images", total=len(self.pictures))
        missing = []
        for index, handle in sorted(self.pictures.items()):
            try:
                outcome: JobOutcome = await handle
            except ChildWorkflowError as error:
                if isinstance(error.cause, CancelledError):  # the deck itself is being cancelled
                    raise asyncio.CancelledError() from error
                outcome = JobOutcome("failed", error_code="provider_error")  # e.g. terminated
            if outcome.status == "succeeded" and outcome.outputs:
                slides[index]["image_key"] = outcome.outputs[0].key
            else:
                missing.append(index + 1)
        return missing

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
                await self._start_picture(data, len(written), fit.slide)
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
            if data.edit is None:  # the person's own edit calls no model: nothing to reserve
                await saga.reserve("tokens", data.reserve_tokens)
            await saga.step("regenerate" if data.edit is None else "edit", slide=data.index + 1)
            deck: LoadOutput = await workflow.execute_activity_method(
                SlidesActivities.load,
                data.deck_id,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=LOCAL_RETRY,
            )
            if not 0 <= data.index < len(deck.slides):
                raise JobFailed("invalid_input")
            brief = deck.brief
            if data.edit is None:
                draft: SlideOutput = await _llm(
                    SlidesActivities.content,
                    ContentInput(data.job_id, deck.brief, deck.outline, data.index, data.model),
                )
                used.tokens += draft.tokens
                slide = draft.slide
            else:
                slide = {**deck.slides[data.index], **data.edit, "shortened": False}
            fit: SlideOutput = await _llm(
                SlidesActivities.fit,
                FitInput(
                    data.job_id,
                    brief["language"],
                    brief.get("tone", "formal"),
                    slide,
                    data.model,
                    rewrite=data.edit is None,
                ),
            )
            used.tokens += fit.tokens
            slides = list(deck.slides)
            kept = slides[data.index].get("image_key", "")  # the slide's picture stays (not re-billed)
            slides[data.index] = {
                **fit.slide,
                "image_key": kept if fit.slide["layout"] == "image_text" else "",
            }
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
                result={
                    "deck_id": data.deck_id,
                    "version": rendered.version,
                    "slide": data.index + 1,
                    "overflow": rendered.overflow,
                },
            )

        async def cleanup(code: str) -> None:
            await _bill_used(saga, used.tokens)

        return await saga.run(work, on_failure=cleanup)
