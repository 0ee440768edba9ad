"""The ledger sweeper's Temporal Schedule, created or updated idempotently by ``pulse worker``."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from activities.ledger import SweepInput
from core.settings import Settings
from workflows import BACKGROUND
from workflows.ledger_sweeper import LedgerSweeperWorkflow


def schedule_id(settings: Settings) -> str:
    return f"{settings.temporal_task_queue_prefix}ledger-sweeper"


def sweeper_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            LedgerSweeperWorkflow.run,
            SweepInput(grace_seconds=settings.ledger_orphan_grace_seconds, limit=settings.ledger_sweep_batch),
            id=schedule_id(settings),
            task_queue=settings.task_queue(BACKGROUND),
            execution_timeout=timedelta(minutes=10),
            static_summary="ledger sweep",
        ),
        spec=ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=timedelta(seconds=settings.ledger_sweep_interval_seconds))]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_sweeper_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or bring an existing one up to date with the settings."""
    wanted = sweeper_schedule(settings)
    try:
        await client.create_schedule(schedule_id(settings), wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass

    def _update(_current: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=wanted)

    await client.get_schedule_handle(schedule_id(settings)).update(_update)
    return "updated"
