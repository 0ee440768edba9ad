"""DataExportWorkflow (id ``export-<job>``, queue ``documents``): a person's data as one archive,
on the job pipeline — step ``collecting`` → the archive built and stored (the job's one output)
→ ``done``, then an email (ar/en) with a link to ``/account/export/<job>``, which hands out a
short-lived signed link to the owner. Nothing is reserved: an export costs no quota.

AccountErasureWorkflow: one pass of account erasure (started hourly by a Temporal Schedule that
``pulse worker`` keeps; ``pulse admin erase-deleted`` starts it too), then a ``cancel`` signal
to each erased account's renewal workflow, so a paid plan is not charged again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client, Schedule
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.data_export import DataExportActivities, ErasureInput, ErasureResult, ExportInput
    from core.settings import Settings
    from workflows import BACKGROUND
    from workflows.payments_common import send_email, subscription_id
    from workflows.pipeline import JobOutcome, JobRef, JobResult, JobSaga
    from workflows.schedules import ensure_schedule, interval_schedule

BUILD_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=0)


@dataclass
class DataExportInput:
    job_id: str
    user_id: str
    locale: str
    notify_to: str  # the sign-in email when asked
    link: str  # /account/export/<job> on the public URL


@workflow.defn(name="DataExportWorkflow")
class DataExportWorkflow:
    @workflow.run
    async def run(self, data: DataExportInput) -> JobOutcome:
        job = JobRef(data.job_id, data.user_id, "export", workflow.info().workflow_id)
        saga = JobSaga(job, locale=data.locale)

        async def work() -> JobResult:
            await saga.step("collecting")
            archive = await workflow.execute_activity_method(
                DataExportActivities.build,
                ExportInput(data.job_id, data.user_id, data.locale),
                start_to_close_timeout=timedelta(minutes=30),
                heartbeat_timeout=timedelta(seconds=60),
                retry_policy=BUILD_RETRY,
            )
            return JobResult(outputs=[archive])

        outcome = await saga.run(work)
        if outcome.status == "succeeded":
            await send_email(
                f"email-export-ready-{data.job_id}",
                data.notify_to,
                "export_ready",
                data.locale,
                {"link": data.link},
            )
        return outcome


@workflow.defn(name="AccountErasureWorkflow")
class AccountErasureWorkflow:
    @workflow.run
    async def run(self, data: ErasureInput) -> ErasureResult:
        result: ErasureResult = await workflow.execute_activity_method(
            DataExportActivities.erase_due,
            data,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1), maximum_attempts=5),
            summary="erase accounts past their grace period; expire data exports",
        )
        for user_id in result.erased:  # a paid plan renews no more: its renewal workflow hears it
            try:
                await workflow.get_external_workflow_handle(subscription_id(user_id)).signal("cancel")
            except FailureError:
                pass  # no renewal workflow (a Free account, or one already ended)
        return result


def erasure_schedule_id(settings: Settings) -> str:
    return f"{settings.temporal_task_queue_prefix}account-erasure"


def erasure_schedule(settings: Settings) -> Schedule:
    return interval_schedule(
        AccountErasureWorkflow.run,
        ErasureInput(),
        workflow_id=erasure_schedule_id(settings),
        task_queue=settings.task_queue(BACKGROUND),
        every=timedelta(seconds=settings.account_erasure_interval_seconds),
        timeout=timedelta(hours=1),
        summary="account erasure",
    )


async def ensure_erasure_schedule(client: Client, settings: Settings) -> str:
    return await ensure_schedule(client, erasure_schedule_id(settings), erasure_schedule(settings))
