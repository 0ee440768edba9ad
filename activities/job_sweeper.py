"""The job sweeper: repairs ``jobs`` rows left pending/running without a live workflow.

A row can outlive its workflow, or exist without one, when a process dies at the wrong moment
(the API killed between committing a row and starting its workflow; a workflow terminated, or
failed in code older than the fault rules). Every ``interval_s`` a `pulse worker` on the
background queue looks at unfinished rows of every kind untouched for ``grace_s``, asks
Temporal about each one's workflow, and repairs those whose workflow is missing or closed:

- chat: a stored reply is settled, else the hold released and the turn failed;
- file scans: the scan is started again (same id ``file-<id>``; its steps are idempotent);
- every other kind (CV, slides, images, videos, exports …): failed ``service_unavailable``,
  every reservation it holds released, an ``error`` event published so open streams end.

Each round also forgets the text of OpenAI-API replies past ``core.apiturns.REPLY_KEPT``.

Several workers may sweep at once: a row is claimed (a conditional UPDATE) before its repair,
so one sweeper repairs it; a failure applies only to the row as claimed, so a workflow whose
late start lands meanwhile keeps its row (and a start that lands after the failure is not run:
workflows/pipeline.py, ``JobSaga._start``). Each round goes on after the last row the previous round looked at
(wrapping to the oldest at the end), so long-lived live jobs never hide newer orphans.
Details in docs/operations.md, "Rows without a workflow"."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.chat import ChatActivities, FinishFailedInput
from activities.jobs import JobActivities
from activities.ledger import LedgerActivities
from core import apiturns, files
from core.db import Database
from core.jobs import Cursor, claim_for_repair, unfinished_jobs
from core.models import FileStatus, Job, JobKind, StoredFile, User
from core.models.base import utcnow
from core.settings import Settings
from core.slides.decks import fail_building_deck
from providers.llm import LLMClient
from providers.streams import StreamBus

log = structlog.get_logger(__name__)
Repair = Callable[[Job], Awaitable[None]]
# (file_id, user_id, locale, content_type): starts FileScanWorkflow (workflows.file_scan)
ScanStarter = Callable[[str, str, str, str], Awaitable[None]]
REPAIR_CODE = "service_unavailable"


@dataclass
class SweepCounts:
    checked: int = 0
    repaired: int = 0
    forgotten: int = 0  # API replies whose text was kept long enough (core.apiturns.REPLY_KEPT)


class JobSweeper:
    def __init__(
        self,
        db: Database,
        client: Client,
        repairs: dict[str, Repair],
        *,
        default: Repair,
        grace_s: float,
        limit: int = 200,
    ) -> None:
        self.db = db
        self.client = client
        self.repairs = repairs  # by kind; any other kind gets ``default``
        self.default = default
        self.grace_s = grace_s
        self.limit = limit
        self.after: Cursor | None = None  # where the next round goes on

    async def sweep_once(self) -> SweepCounts:
        counts = SweepCounts()
        async with self.db.session() as session:  # housekeeping of the same rows' leftovers
            counts.forgotten = await apiturns.forget_replies(session)
        older_than = utcnow() - timedelta(seconds=self.grace_s)
        async with self.db.reader() as session:
            jobs = await unfinished_jobs(session, older_than=older_than, after=self.after, limit=self.limit)
        self.after = (jobs[-1].updated_at, jobs[-1].id) if len(jobs) == self.limit else None
        for job in jobs:
            counts.checked += 1
            if await self._workflow_running(job.workflow_id):
                continue
            async with self.db.session() as session:
                claimed = await claim_for_repair(session, job)
            if claimed is None:
                continue  # another sweeper has it, or its workflow touched it meanwhile
            await self.repairs.get(job.kind, self.default)(claimed)
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


async def owner_locale(db: Database, job: Job) -> str:
    async with db.reader() as session:
        user = await session.get(User, job.user_id) if job.user_id else None
    return user.locale if user is not None else "ar"


def chat_repair(db: Database, chat: ChatActivities) -> Repair:
    """A turn without a live workflow: its stored reply settled, else released and failed."""

    async def repair(job: Job) -> None:
        locale = await owner_locale(db, job)
        key = f"chat-turn-{job.id}"
        await chat.finish_failed(FinishFailedInput(job.id, key, REPAIR_CODE, locale))

    return repair


def failed_repair(db: Database, pipeline: JobActivities) -> Repair:
    """Any job of the shared pipeline without a live workflow: failed, its holds released once,
    its ``error`` event published (an export row left pending would also answer every new
    export request as "being prepared"). ``job`` is the row as claimed: one its workflow
    touched since the claim is left to that workflow."""

    async def repair(job: Job) -> None:
        locale = await owner_locale(db, job)
        # only the row as claimed: a workflow that started since (a late API start) keeps it
        await pipeline.fail_orphan(job.id, job.workflow_id, REPAIR_CODE, locale, claimed_at=job.updated_at)

    return repair


def slides_repair(db: Database, pipeline: JobActivities) -> Repair:
    """A deck build without a live workflow: failed as every kind is, and its deck with it (a
    deck keeps its own status; left ``generating`` its page would wait for ever)."""

    async def repair(job: Job) -> None:
        locale = await owner_locale(db, job)
        if await pipeline.fail_orphan(
            job.id, job.workflow_id, REPAIR_CODE, locale, claimed_at=job.updated_at
        ):
            async with db.session() as session:
                await fail_building_deck(session, job.id)

    return repair


def file_scan_repair(db: Database, start_scan: ScanStarter, fail: Repair) -> Repair:
    """A scan without a live workflow is started again (the file stays ``scanning`` meanwhile);
    a file that is gone or already has its verdict only needs its job row failed."""

    async def repair(job: Job) -> None:
        async with db.session() as session:
            row = await session.get(StoredFile, job.id, with_for_update=True)
            waiting = row is not None and row.status in (FileStatus.pending.value, FileStatus.scanning.value)
            if row is None or not waiting:
                target = None
            else:
                await files.start_scan(session, row)  # a start that failed left it pending
                target = (row.id, row.user_id, row.content_type)
        if target is None:
            await fail(job)
            return
        file_id, user_id, content_type = target
        await start_scan(file_id, user_id, await owner_locale(db, job), content_type)

    return repair


def job_sweeper(
    settings: Settings,
    db: Database,
    llm: LLMClient,
    bus: StreamBus,
    client: Client,
    start_scan: ScanStarter,
) -> JobSweeper:
    """The sweeper `pulse worker` runs: chat's repair, the scan restart, and the failure every
    other kind of the job pipeline shares."""
    chat = ChatActivities(settings, db, llm, bus, LedgerActivities(db, settings))
    pipeline = JobActivities(db, bus)
    fail = failed_repair(db, pipeline)
    repairs = {
        JobKind.chat.value: chat_repair(db, chat),
        JobKind.slides.value: slides_repair(db, pipeline),
        JobKind.file_scan.value: file_scan_repair(db, start_scan, fail),
    }
    grace_s, limit = settings.job_orphan_grace_seconds, settings.job_sweep_batch
    return JobSweeper(db, client, repairs, default=fail, grace_s=grace_s, limit=limit)
