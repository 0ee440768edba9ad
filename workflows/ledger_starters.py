"""Starting the ledger's workflows (not loaded by workflow sandboxes): the sweeper's Temporal
Schedule, created or updated idempotently by ``pulse worker``, and the 80 % warning email."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from activities.ledger import SweepInput, WarningEmail
from core.settings import Settings
from workflows import BACKGROUND
from workflows.ledger_sweeper import LedgerSweeperWorkflow
from workflows.schedules import ensure_schedule
from workflows.starters import start_email


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
    return await ensure_schedule(client, schedule_id(settings), sweeper_schedule(settings))


def quota_warning_sender(settings: Settings) -> Callable[[Client, WarningEmail], Awaitable[None]]:
    """What ``LedgerActivities`` calls to send the warning: SendEmailWorkflow, once per id."""

    async def send(client: Client, email: WarningEmail) -> None:
        await start_email(
            client,
            settings,
            workflow_id=email.workflow_id,
            to=email.to,
            template="quota_warning",
            locale=email.locale,
            context=email.context,
        )

    return send
