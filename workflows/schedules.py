"""Temporal Schedules that ``pulse worker`` keeps in place: created when missing, brought up to
date with the settings otherwise (idempotent, so every worker start may call it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.accounts import PurgeAuthInput
from core.settings import Settings
from workflows import BACKGROUND
from workflows.purge_auth import PurgeAuthWorkflow

PURGE_AUTH_TIME_ZONE = "Asia/Amman"  # a quiet hour for our users
PURGE_AUTH_AT = (3, 17)  # 03:17 local time


async def ensure_schedule(client: Client, schedule_id: str, wanted: Schedule) -> str:
    """Create the schedule, or update an existing one to ``wanted``: "created" or "updated"."""
    try:
        await client.create_schedule(schedule_id, wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass

    def _update(_current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=wanted)

    await client.get_schedule_handle(schedule_id).update(_update)
    return "updated"


def interval_schedule(
    run: Any,
    arg: Any,
    *,
    workflow_id: str,
    task_queue: str,
    every: timedelta,
    timeout: timedelta,
    summary: str,
) -> Schedule:
    """Start ``run(arg)`` every ``every`` (a run still going is not started twice)."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            run, arg, id=workflow_id, task_queue=task_queue, execution_timeout=timeout, static_summary=summary
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def purge_auth_schedule_id(settings: Settings) -> str:
    return f"{settings.temporal_task_queue_prefix}purge-auth"


def purge_auth_schedule(settings: Settings) -> Schedule:
    hour, minute = PURGE_AUTH_AT
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PurgeAuthWorkflow.run,
            PurgeAuthInput(keep_days=settings.auth_purge_keep_days),
            id=purge_auth_schedule_id(settings),
            task_queue=settings.task_queue(BACKGROUND),
            execution_timeout=timedelta(minutes=30),
            static_summary="purge dead sign-in links and sessions",
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])],
            time_zone_name=PURGE_AUTH_TIME_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_purge_auth_schedule(client: Client, settings: Settings) -> str:
    return await ensure_schedule(client, purge_auth_schedule_id(settings), purge_auth_schedule(settings))
