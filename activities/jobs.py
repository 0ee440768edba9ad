"""Bookkeeping activities of the job pipeline (workflows/pipeline.py runs them as local
activities, retried without a maximum): the job's row and its events on the stream bus.

Every event carries the activity attempt that published it (``attempt``), and the bus key is
the job id, so ``GET /v1/jobs/{id}/events`` relays them (resumable with ``Last-Event-ID``).
Work activities of a job kind publish their own ``progress`` with ``publish_progress``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from temporalio import activity

from core import jobs
from core.db import Database
from core.i18n import translate
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
    async def step(self, data: StepInput) -> None:
        """The job is at ``step``: its row exists and is running; a ``step`` event is published."""
        ref = data.job
        async with self.db.session() as session:
            job = await jobs.ensure_job(
                session, job_id=ref.job_id, user_id=ref.user_id, kind=ref.kind, workflow_id=ref.workflow_id
            )
            await jobs.mark_running(session, job)
        await self.bus.publish(ref.job_id, "step", {"step": data.step, **data.detail, "attempt": _attempt()})

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
        attempt = _attempt()
        if final_status == JobStatus.succeeded.value:
            summary = [{"name": o.name, "content_type": o.content_type, "size": o.size} for o in outputs]
            body = {"status": final_status, "usage": data.usage, "outputs": summary, **data.result}
            await self.bus.publish(ref.job_id, "done", {**body, "attempt": attempt})
        else:
            text = translate(final_message, data.locale) if final_message else None
            body = {"status": final_status, "code": final_code, "message": text}
            await self.bus.publish(ref.job_id, "error", {**body, "attempt": attempt})
        log.info("job.finished", job_id=ref.job_id, kind=ref.kind, status=final_status, recorded=recorded)
        return recorded
