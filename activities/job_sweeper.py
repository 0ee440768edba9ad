"""The job sweeper: repairs ``jobs`` rows left pending/running without a live workflow.

A row can outlive its workflow, or exist without one, when a process dies at the wrong moment
(the API killed between committing a turn and starting its workflow; a workflow that failed in
code older than the fault rules). Every ``interval_s`` a `pulse worker` on the background queue
looks at unfinished rows untouched for ``grace_s``, asks Temporal about each one's workflow,
and hands those whose workflow is missing or closed to the repair registered for their kind
(chat: settle a stored reply, else release the hold and fail the turn with
``service_unavailable``, publishing it so every open stream ends). Later job kinds (documents,
media) register their own repair. Idempotent: several workers may sweep at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.chat import ChatActivities, FinishFailedInput
from activities.ledger import LedgerActivities
from core.db import Database
from core.jobs import finish_job, unfinished_jobs
from core.models import Job, JobKind, JobStatus, User
from core.models.base import utcnow
from core.settings import Settings
from providers.llm import LLMClient
from providers.streams import StreamBus

log = structlog.get_logger(__name__)
Repair = Callable[[Job], Awaitable[None]]


@dataclass
class SweepCounts:
    checked: int = 0
    repaired: int = 0


class JobSweeper:
    def __init__(
        self, db: Database, client: Client, repairs: dict[str, Repair], *, grace_s: float, limit: int = 200
    ) -> None:
        self.db = db
        self.client = client
        self.repairs = repairs
        self.grace_s = grace_s
        self.limit = limit

    async def sweep_once(self) -> SweepCounts:
        counts = SweepCounts()
        older_than = utcnow() - timedelta(seconds=self.grace_s)
        async with self.db.reader() as session:
            jobs = await unfinished_jobs(
                session, kinds=list(self.repairs), older_than=older_than, limit=self.limit
            )
        for job in jobs:
            counts.checked += 1
            if await self._workflow_running(job.workflow_id):
                continue
            await self.repairs[job.kind](job)
            counts.repaired += 1
            log.warning("jobs.repaired", job_id=job.id, kind=job.kind, workflow_id=job.workflow_id)
        return counts

    async def run_forever(self, interval_s: float) -> None:
        """Sweep every ``interval_s`` for the life of the process; an outage skips a round."""
        while True:
            try:
                await self.sweep_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - PostgreSQL or Temporal away: next round
                log.warning("jobs.sweep_failed", error_type=type(error).__name__, error=str(error)[:200])
            await asyncio.sleep(interval_s)

    async def _workflow_running(self, workflow_id: str) -> bool:
        try:
            description = await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status == WorkflowExecutionStatus.RUNNING


def chat_repair(db: Database, chat: ChatActivities) -> Repair:
    """A turn without a live workflow: its stored reply settled, else released and failed."""

    async def repair(job: Job) -> None:
        async with db.reader() as session:
            user = await session.get(User, job.user_id) if job.user_id else None
        locale = user.locale if user is not None else "ar"
        key = f"chat-turn-{job.id}"
        await chat.finish_failed(FinishFailedInput(job.id, key, "service_unavailable", locale))

    return repair


def unreserved_repair(db: Database) -> Repair:
    """A job that reserves nothing (a data export) without a live workflow: it failed, so the
    person can ask again (an export row left pending would answer every new request)."""

    async def repair(job: Job) -> None:
        async with db.session() as session:
            row = await session.get(Job, job.id)
            if row is not None:
                await finish_job(session, row, JobStatus.failed, error_code="unavailable")

    return repair


def job_sweeper(
    settings: Settings, db: Database, llm: LLMClient, bus: StreamBus, client: Client
) -> JobSweeper:
    """The sweeper `pulse worker` runs (chat and data exports; later kinds add their repair here)."""
    chat = ChatActivities(settings, db, llm, bus, LedgerActivities(db, settings))
    repairs = {JobKind.chat.value: chat_repair(db, chat), JobKind.export.value: unreserved_repair(db)}
    return JobSweeper(db, client, repairs, grace_s=settings.job_orphan_grace_seconds)
