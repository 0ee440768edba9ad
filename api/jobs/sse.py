"""Relay a job's events (``step``, ``progress``, ``done``, ``error``) from the stream bus as SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core import jobs
from core.db import Database
from core.models import JobStatus
from core.models.job import Job
from providers.streams import StreamBus, StreamEvent

KEEPALIVE_MS = 5000


async def relay(
    bus: StreamBus, db: Database, job_id: str, after: str | None, locale: str
) -> AsyncIterator[bytes]:
    """Yield SSE frames after ``after`` until the job's ``done`` or ``error`` event. A job whose
    stream has expired (or that ended before anything was published) is summarised from its row."""
    yield b"retry: 1000\n\n"
    cursor = after
    while True:
        events = await bus.read(job_id, cursor, block_ms=KEEPALIVE_MS)
        for event in events:
            yield event.sse()
            cursor = event.id
            if event.terminal:
                return
        if not events:
            async with db.reader() as session:
                job = await session.get(Job, job_id)
            if job is not None and job.status in jobs.TERMINAL_STATUSES and cursor is None:
                yield summary_event(job, locale).sse()
                return
            yield b": keepalive\n\n"


def summary_event(job: Job, locale: str) -> StreamEvent:
    if job.status == JobStatus.succeeded.value:
        outputs = [
            {"name": o.name, "content_type": o.content_type, "size": o.size} for o in jobs.job_outputs(job)
        ]
        return StreamEvent(
            "0-1", "done", {"status": job.status, "usage": jobs.job_usage(job), "outputs": outputs}
        )
    return StreamEvent(
        "0-1",
        "error",
        {"status": job.status, "code": job.error_code, "message": jobs.job_error_message(job, locale)},
    )
