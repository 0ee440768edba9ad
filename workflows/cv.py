"""CV jobs on the shared job saga (``workflows/pipeline.py``), queue ``documents``:

- ``CvRenderWorkflow`` (id ``cv-<job>``): [reserve tokens → translate (when the CV is rendered
  in the other language)] → render → text self-check → page-1 thumbnail → (store is inside each
  step: outputs are storage keys) → settle → done.
- ``CvAssistWorkflow`` (id ``cv-assist-<job>``): reserve tokens → one structured-output call →
  the suggestion stored as JSON → settle → done; the person accepts or rejects it in the page.

Payloads carry ids, options and storage keys only (the person's notes for assist go through the
payload codec when a key is configured); search attributes are ids and enums."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.cv import (
        AssistInput,
        AssistOutput,
        CheckInput,
        CheckOutput,
        CvActivities,
        CvSource,
        RenderInput,
        RenderOutput,
        ThumbnailInput,
    )
    from activities.jobs import OutputRef
    from workflows.pipeline import JobFailed, JobOutcome, JobRef, JobResult, JobSaga

PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=6,
    non_retryable_error_types=["provider_error", "invalid_input", "content_refused"],
)
LOCAL_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=500), maximum_attempts=3)
HEARTBEAT_TIMEOUT = timedelta(seconds=10)  # activities heartbeat every 2 s
TEXT_CHECK_FAILED = "The PDF did not pass its text check. We have been told; please try again later."


def cv_render_id(job_id: str) -> str:
    return f"cv-{job_id}"


def cv_assist_id(job_id: str) -> str:
    return f"cv-assist-{job_id}"


@dataclass
class CvRenderInput:
    job_id: str
    user_id: str
    cv_id: str
    version: int
    ui_locale: str  # the language of the job's messages
    locale: str  # the language the CV is rendered in
    template: str
    paper: str
    digits: str
    bilingual: bool
    translate: bool = False  # the CV is in the other language: an AI translation step first
    model: str = "gpt-5-mini"
    reserve_tokens: int = 0
    photo_key: str | None = None
    tagged: bool = False  # PDF/UA-1


@dataclass
class CvAssistInput:
    job_id: str
    user_id: str
    cv_id: str
    version: int
    ui_locale: str
    action: str
    target_locale: str
    model: str
    reserve_tokens: int
    notes: str = ""
    work_index: int | None = None
    job_description: str = ""


async def _assist(data: AssistInput) -> AssistOutput:
    return await workflow.execute_activity_method(
        CvActivities.assist,
        data,
        start_to_close_timeout=timedelta(minutes=3),
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        retry_policy=PROVIDER_RETRY,
    )


@workflow.defn(name="CvRenderWorkflow")
class CvRenderWorkflow:
    @workflow.run
    async def run(self, data: CvRenderInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "cv", workflow.info().workflow_id), locale=data.ui_locale
        )

        async def work() -> JobResult:
            source = CvSource(data.user_id, data.cv_id, data.version)
            outputs: list[OutputRef] = []
            usage: dict[str, int] = {}
            if data.translate:
                await saga.reserve("tokens", data.reserve_tokens)
                await saga.step("translate")
                translated = await _assist(
                    AssistInput(
                        data.job_id,
                        source,
                        "translate",
                        data.locale,
                        data.model,
                        output_name=f"cv-{data.locale}.json",
                    )
                )
                source = CvSource(data.user_id, data.cv_id, data.version, content_key=translated.output.key)
                outputs.append(translated.output)
                usage["tokens"] = translated.studio_tokens
            await saga.step("render")
            rendered: RenderOutput = await workflow.execute_activity_method(
                CvActivities.render,
                RenderInput(
                    data.job_id,
                    source,
                    data.template,
                    data.locale,
                    data.paper,
                    data.digits,
                    data.bilingual,
                    data.photo_key,
                    data.tagged,
                ),
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
            await saga.step("check")
            checked: CheckOutput = await workflow.execute_activity_method(
                CvActivities.check,
                CheckInput(source, rendered.output, data.locale, data.digits, data.bilingual),
                start_to_close_timeout=timedelta(minutes=1),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
            if not checked.ok:
                raise JobFailed(
                    "cv_text_check_failed",
                    TEXT_CHECK_FAILED,
                    missing=checked.missing,
                    out_of_order=checked.out_of_order,
                )
            await saga.step("thumbnail")
            thumbnail: OutputRef = await workflow.execute_activity_method(
                CvActivities.thumbnail,
                ThumbnailInput(data.job_id, data.user_id, rendered.output),
                start_to_close_timeout=timedelta(minutes=1),
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=LOCAL_RETRY,
            )
            return JobResult(
                outputs=[rendered.output, thumbnail, *outputs],
                usage=usage,
                result={"pages": rendered.pages, "checked_words": checked.words},
            )

        return await saga.run(work)


@workflow.defn(name="CvAssistWorkflow")
class CvAssistWorkflow:
    @workflow.run
    async def run(self, data: CvAssistInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "cv_assist", workflow.info().workflow_id), locale=data.ui_locale
        )

        async def work() -> JobResult:
            await saga.reserve("tokens", data.reserve_tokens)
            await saga.step("assist", action=data.action)
            done = await _assist(
                AssistInput(
                    data.job_id,
                    CvSource(data.user_id, data.cv_id, data.version),
                    data.action,
                    data.target_locale,
                    data.model,
                    data.notes,
                    data.work_index,
                    data.job_description,
                )
            )
            return JobResult(
                outputs=[done.output],
                usage={"tokens": done.studio_tokens},
                result={"attempts": done.attempts},
            )

        return await saga.run(work)
