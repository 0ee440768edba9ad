"""FileSweeperWorkflow: one sweep of uploads (started by a Temporal Schedule): uploads never
completed expire and their objects are deleted; a rejected file's object that outlived its
rejection is deleted again."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.storage import FileActivities, FileSweepInput, FileSweepResult
    from core.settings import Settings
    from workflows import BACKGROUND
    from workflows.schedules import ensure_schedule


@workflow.defn(name="FileSweeperWorkflow")
class FileSweeperWorkflow:
    @workflow.run
    async def run(self, data: FileSweepInput) -> FileSweepResult:
        return await workflow.execute_activity_method(
            FileActivities.sweep,
            data,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="expire orphaned uploads, delete rejected objects",
        )


def file_sweeper_schedule_id(settings: Settings) -> str:
    return f"{settings.temporal_task_queue_prefix}files-sweeper"


def file_sweeper_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            FileSweeperWorkflow.run,
            FileSweepInput(pending_grace_seconds=settings.files_pending_grace_seconds),
            id=file_sweeper_schedule_id(settings),
            task_queue=settings.task_queue(BACKGROUND),
            execution_timeout=timedelta(minutes=10),
            static_summary="files sweep",
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.files_sweep_interval_seconds))]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_file_sweeper_schedule(client: Client, settings: Settings) -> str:
    return await ensure_schedule(client, file_sweeper_schedule_id(settings), file_sweeper_schedule(settings))
