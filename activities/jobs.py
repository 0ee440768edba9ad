"""Bookkeeping activities of the job pipeline (workflows/pipeline.py runs them as local
activities, retried without a maximum): the job's row and its events on the stream bus.

Every event carries the activity attempt that published it (``attempt``), and the bus key is
the job id, so ``GET /v1/jobs/{id}/events`` relays them (resumable with ``Last-Event-ID``).
Work activities of a job kind publish their own ``progress`` with ``publish_progress``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from temporalio import activity

from core import jobs, ledger
from core.db import Database
from core.i18n import translate
from core.metrics import LEDGER_OPERATIONS
from core.models import JobStatus
from providers.streams import StreamBus

log = structlog.get_logger(__name__)


@dataclass
class JobRef:
    job_id: str
    user_id: str | None
    kind: str
    workflow_id: str


@dataclass
class StepInput:
    job: JobRef
    step: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    """The job's row after a step: ``running``, or the outcome it already had."""

    status: str
    error_code: str | None = None


@dataclass
class OutputRef:
    """A stored output as it travels in workflow payloads (a storage key, never bytes)."""

    name: str
    key: str
    content_type: str
    size: int
    bucket: str = "assets"


@dataclass
class FinishInput:
    job: JobRef
    status: str  # succeeded | failed | cancelled
    locale: str = "ar"
    error_code: str | None = None
    error_message: str | None = None  # English msgid of a kind's own error (translated here)
    outputs: list[OutputRef] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)  # extra fields for the done event


def _attempt() -> int:
    try:
        return activity.info().attempt
    except RuntimeError:  # called outside an activity (tests)
        return 1


async def publish_progress(bus: StreamBus, job_id: str, step: str, done: int, total: int) -> None:
    """A ``progress`` event from inside a work activity (bytes scanned, frames rendered …)."""
    await bus.publish(job_id, "progress", {"step": step, "done": done, "total": total, "attempt": _attempt()})


class JobActivities:
    def __init__(self, db: Database, bus: StreamBus) -> None:
        self.db = db
        self.bus = bus

    @activity.defn(name="jobs.step")
    async def step(self, data: StepInput) -> StepResult:
        """The job is at ``step``: its row exists and is running (pending → running, in one
        conditional UPDATE), and a ``step`` event is published. A row that already has its
        outcome keeps it and gets no event; the saga does not run a job whose row is finished
        at its ``started`` step (docs/operations.md, "Rows without a workflow")."""
        ref = data.job
        async with self.db.session() as session:
            job = await jobs.start_job(
                session, job_id=ref.job_id, user_id=ref.user_id, kind=ref.kind, workflow_id=ref.workflow_id
            )
            row = StepResult(job.status, job.error_code)
        if row.status in jobs.TERMINAL_STATUSES:
            log.warning("job.step_after_outcome", job_id=ref.job_id, step=data.step, status=row.status)
            return row
        await self.bus.publish(ref.job_id, "step", {"step": data.step, **data.detail, "attempt": _attempt()})
        return row

    @activity.defn(name="jobs.finish")
    async def finish(self, data: FinishInput) -> bool:
        """Record the outcome once, then publish ``done`` or ``error`` (again on a retry: clients
        stop at the first terminal event, so a duplicate is harmless)."""
        ref = data.job
        status = JobStatus(data.status)
        # stored in English (the msgid), translated for whoever reads it
        message = (
            jobs.english_error(data.error_code, data.error_message) if status != JobStatus.succeeded else None
        )
        outputs = [jobs.JobOutput(o.name, o.key, o.content_type, o.size, o.bucket) for o in data.outputs]
        async with self.db.session() as session:
            job = await jobs.ensure_job(
                session, job_id=ref.job_id, user_id=ref.user_id, kind=ref.kind, workflow_id=ref.workflow_id
            )
            recorded = await jobs.finish_job(
                session,
                job,
                status,
                error_code=data.error_code,
                error_message=message,
                outputs=outputs,
                usage=data.usage,
            )
            final_status, final_code, final_message = job.status, job.error_code, job.error_message
        if final_status == JobStatus.succeeded.value:
            summary = [{"name": o.name, "content_type": o.content_type, "size": o.size} for o in outputs]
            body = {"status": final_status, "usage": data.usage, "outputs": summary, **data.result}
            await self.bus.publish(ref.job_id, "done", {**body, "attempt": _attempt()})
        else:
            await self._publish_error(ref.job_id, final_status, final_code, final_message, data.locale)
        log.info("job.finished", job_id=ref.job_id, kind=ref.kind, status=final_status, recorded=recorded)
        return recorded

    async def fail_orphan(
        self, job_id: str, workflow_id: str, code: str, locale: str, *, claimed_at: datetime | None = None
    ) -> bool:
        """Finish a job whose workflow never started or ended without finishing it (the job
        sweeper calls this): failed with ``code`` and every reservation it still holds released,
        in one transaction (the failure is a conditional UPDATE and a release is keyed, so it
        happens once), then the ``error`` event, so open streams end. With ``claimed_at`` (the
        sweeper's claim), a row touched since — its workflow started meanwhile — is left alone.
        False: it had an outcome, or its workflow has it."""
        message = jobs.english_error(code)
        async with self.db.session() as session:
            if not await jobs.fail_unfinished(session, job_id, code, message, unchanged_since=claimed_at):
                return False
            for key in await ledger.job_reservations(session, job_id, workflow_id):
                released = await ledger.release(session, key=key, actor="sweeper", reason=code)
                LEDGER_OPERATIONS.labels("release", "released" if released else "none").inc()
        await self._publish_error(job_id, JobStatus.failed.value, code, message, locale)
        return True

    async def _publish_error(
        self, job_id: str, status: str, code: str | None, message: str | None, locale: str
    ) -> None:
        text = translate(message, locale) if message else None
        body = {"status": status, "code": code, "message": text, "attempt": _attempt()}
        await self.bus.publish(job_id, "error", body)
