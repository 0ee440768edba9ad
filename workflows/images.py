"""``ImageJobWorkflow`` (id ``image-<job>``, queue ``media``): the pipeline's saga around an
image render.

reserve n × cost ``images`` → moderate the prompt → render (OpenAI/Gemini: one activity that
also stores; Replicate: submit once — the prediction id is workflow state — then a webhook
signal or durable polling, then store); each stored image gets its thumbnail and gallery row
in the same activity → settle the number made.
A refusal fails ``content_refused`` with everything released; a cancel cancels the prediction
and releases. Unsandboxed (like the chat turn): the replay test guards its determinism.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.images import ImageActivities, ImageJobInput, StoreInput
    from activities.jobs import OutputRef
    from workflows.pipeline import (
        PROVIDER_UPDATE,
        JobFailed,
        JobOutcome,
        JobRef,
        JobResult,
        JobSaga,
        ProviderJob,
        ProviderUpdate,
    )

__all__ = ["ImageJobInput", "ImageJobWorkflow", "image_workflow_id"]

MODERATE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=5)
RENDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30), maximum_attempts=6
)
STORE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=0)


def image_workflow_id(job_id: str) -> str:
    return f"image-{job_id}"


@workflow.defn(name="ImageJobWorkflow", sandboxed=False)
class ImageJobWorkflow:
    def __init__(self) -> None:
        self.provider = ProviderJob()

    @workflow.signal(name=PROVIDER_UPDATE)
    def provider_update(self, update: ProviderUpdate) -> None:
        self.provider.deliver(update)

    @workflow.run
    async def run(self, data: ImageJobInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "image", workflow.info().workflow_id), locale=data.locale
        )

        async def work() -> JobResult:
            await saga.reserve("images", data.n * data.cost)
            await saga.step("moderate")
            await workflow.execute_activity_method(
                ImageActivities.moderate,
                data.prompt,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=MODERATE_RETRY,
            )
            await saga.step("render", model=data.model, n=data.n)
            outputs = await (self._long_job(saga, data) if data.long_job else self._render(data))
            if not outputs:
                raise JobFailed("provider_error")
            made = len(outputs)
            return JobResult(outputs=outputs, usage={"images": made * data.cost}, result={"made": made})

        return await saga.run(work)

    async def _render(self, data: ImageJobInput) -> list[OutputRef]:
        return await workflow.execute_activity_method(
            ImageActivities.generate,
            data,
            start_to_close_timeout=timedelta(minutes=3),
            retry_policy=RENDER_RETRY,
        )

    async def _long_job(self, saga: JobSaga, data: ImageJobInput) -> list[OutputRef]:
        done = await self.provider.submit_and_await(
            ImageActivities.submit,
            data,
            ImageActivities.poll,
            cancel=ImageActivities.cancel,
            first_poll=timedelta(seconds=data.first_poll_s),
            max_poll=timedelta(seconds=data.max_poll_s),
            deadline=timedelta(minutes=20),
        )
        await saga.step("store")
        urls = [str(url) for url in (done.output or [])]
        return await workflow.execute_activity_method(
            ImageActivities.store,
            StoreInput(data, urls),
            start_to_close_timeout=timedelta(minutes=3),
            retry_policy=STORE_RETRY,
        )
