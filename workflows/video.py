"""``VideoJobWorkflow`` (id ``video-<job>``, queue ``media``): the pipeline's saga around a
render that takes minutes.

reserve ``cost`` videos → moderate the prompt (the image studio's moderation activity) →
submit once (the provider job id is workflow state and a database row: a retry or a crashed
worker never starts a second render) → wait with durable timers, polling at the model's pace
with backoff, or a Replicate webhook signal → past the model's ceiling the render is cancelled
at the provider and the hold released (``provider_timeout``) → store (streamed; poster and
duration read from the file) → settle. A safety-filtered result fails ``content_refused``
(nothing billed); a cancel cancels the provider render and releases.

Progress: ``step`` events ``queued`` → ``running`` (+ ``progress`` with the provider's own
figure where it gives one) → ``storing``; the workflow's current details say provider, model
and phase for an operator in the Temporal UI. A render that took longer than
``email_after_s`` ends with a "your video is ready" email (ar/en) to a person who left.
Unsandboxed (like the image job); the replay test guards its determinism.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import CancelledError

with workflow.unsafe.imports_passed_through():
    from activities.images import ImageActivities
    from activities.jobs import OutputRef
    from activities.video import StoreVideoInput, VideoActivities, VideoJobInput
    from workflows.payments_common import send_email
    from workflows.pipeline import (
        PROVIDER_UPDATE,
        JobFailed,
        JobOutcome,
        JobRef,
        JobResult,
        JobSaga,
        ProviderJob,
        ProviderUpdate,
        uncancellable,
    )

__all__ = ["VideoJobInput", "VideoJobWorkflow", "video_workflow_id"]

MODERATE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=5)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=0)
CANCEL_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=10)
POLLS = {
    "google": VideoActivities.poll_google,
    "runway": VideoActivities.poll_runway,
    "replicate": VideoActivities.poll_replicate,
}
CANCELS = {
    "google": VideoActivities.cancel_google,
    "runway": VideoActivities.cancel_runway,
    "replicate": VideoActivities.cancel_replicate,
}


def video_workflow_id(job_id: str) -> str:
    return f"video-{job_id}"


def first_output(done: ProviderUpdate) -> str:
    """The file to store: a poll gives one URL or uri, Replicate's webhook a list of one."""
    output = done.output[0] if isinstance(done.output, list) and done.output else done.output
    if not output:
        raise JobFailed("provider_error")
    return str(output)


@workflow.defn(name="VideoJobWorkflow", sandboxed=False)
class VideoJobWorkflow:
    def __init__(self) -> None:
        self.provider = ProviderJob()
        self.phase = "queued"

    @workflow.signal(name=PROVIDER_UPDATE)
    def provider_update(self, update: ProviderUpdate) -> None:
        self.provider.deliver(update)

    @workflow.query(name="phase")
    def current_phase(self) -> str:
        return self.phase

    def _details(self, data: VideoJobInput, phase: str) -> None:
        self.phase = phase
        job = self.provider.provider_job_id or "-"
        workflow.set_current_details(f"{data.provider} · {data.model} · {phase} · provider job {job}")

    @workflow.run
    async def run(self, data: VideoJobInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "video", workflow.info().workflow_id), locale=data.locale
        )

        async def work() -> JobResult:
            await saga.reserve("videos", data.cost)
            await saga.step("queued", model=data.model, provider=data.provider)
            await workflow.execute_activity_method(
                ImageActivities.moderate,
                data.prompt,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=MODERATE_RETRY,
            )
            done = await self._render(saga, data)
            await saga.step("storing")
            self._details(data, "storing")
            outputs: list[OutputRef] = await workflow.execute_activity_method(
                VideoActivities.store,
                StoreVideoInput(data, first_output(done)),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=None,
                retry_policy=STORE_RETRY,
            )
            return JobResult(outputs=outputs, usage={"videos": data.cost}, result={"model": data.model})

        started = workflow.now()
        outcome = await saga.run(work)
        if outcome.status == "succeeded" and self._left(data, started):
            await send_email(
                f"email-video-ready-{data.job_id}",
                str(data.notify_to),
                "video_ready",
                data.locale,
                {"prompt": data.prompt[:120], "link": data.link},
            )
        return outcome

    @staticmethod
    def _left(data: VideoJobInput, started: datetime) -> bool:
        """A render longer than ``email_after_s``: the person has most likely left the page."""
        took = (workflow.now() - started).total_seconds()
        return data.notify_to is not None and took >= data.email_after_s

    async def _render(self, saga: JobSaga, data: VideoJobInput) -> ProviderUpdate:
        self._details(data, "submitting")
        waiting = asyncio.ensure_future(
            self.provider.submit_and_await(
                VideoActivities.submit,
                data,
                POLLS[data.provider],
                cancel=CANCELS[data.provider],
                first_poll=timedelta(seconds=data.first_poll_s),
                max_poll=timedelta(seconds=data.max_poll_s),
                deadline=timedelta(seconds=data.ceiling_s),
            )
        )
        try:
            await workflow.wait_condition(lambda: self.provider.provider_job_id is not None or waiting.done())
            if self.provider.provider_job_id is not None:
                await saga.step("running", provider_job_id=self.provider.provider_job_id)
                self._details(data, "running")
            return await waiting
        except JobFailed as failure:
            if failure.code == "provider_timeout" and self.provider.provider_job_id is not None:
                self._details(data, "ceiling: cancelling at the provider")
                await self._cancel_at_provider(data)
            raise
        except (asyncio.CancelledError, CancelledError):
            self._details(data, "cancelling at the provider")
            waiting.cancel()  # submit_and_await cancels the render at the provider …
            await uncancellable(asyncio.wait([waiting]))  # … and we wait until it has
            raise

    async def _cancel_at_provider(self, data: VideoJobInput) -> None:
        await uncancellable(
            workflow.execute_activity_method(
                CANCELS[data.provider],
                str(self.provider.provider_job_id),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=CANCEL_RETRY,
            )
        )
