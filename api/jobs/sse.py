"""Relay a job's events (``step``, ``progress``, ``done``, ``error``) from the stream bus as SSE.

A job whose row has its outcome but whose final event is not on the bus — its stream expired,
nothing was ever published, or the final event was lost (a crash between the row's commit and
the publish) — ends with its stored outcome, with or without ``Last-Event-ID``: whenever the
bus has nothing new, the relay reads the row, and a finished row is summarised at once when its
stream is gone, else once it has been final for ``FINAL_EVENT_GRACE_S`` (the final event is
published right after the row is committed; within that grace it is awaited, not summarised
away). Chat's relay follows the same rule (api/chat/sse.py), and both share api/relay.py's
loop: the stream stays open through a Redis or PostgreSQL outage (``: waiting for the
service``) and picks up where it was; events of an attempt older than the newest ``restart``
are dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from api import relay as shared
from api.relay import KEEPALIVE_MS
from core import jobs
from core.db import Database
from core.models import JobStatus
from core.models.base import utcnow
from core.models.job import Job
from providers.streams import StreamBus, StreamEvent

FINAL_EVENT_GRACE_S = 2.0  # a row final for longer whose final event never came: summarised


def relay(bus: StreamBus, db: Database, job_id: str, after: str | None, locale: str) -> AsyncIterator[bytes]:
    """Yield SSE frames after ``after`` until the job's ``done`` or ``error`` event, or its
    stored outcome when that event is not coming (see the module's docstring). ``after`` is the
    client's ``Last-Event-ID``: one this stream never issued starts from the beginning. The
    first read does not wait: a job long finished is answered at once."""
    return shared.relay(bus, job_id, after, lambda: _finished(bus, db, job_id, locale), first_wait_ms=0)


async def _finished(bus: StreamBus, db: Database, job_id: str, locale: str) -> StreamEvent | int:
    """The row's outcome when its final event is not coming; else how long the next read waits
    (a keepalive, or until the row's grace ends)."""
    async with db.reader() as session:
        job = await session.get(Job, job_id)
    if job is None or job.status not in jobs.TERMINAL_STATUSES:
        return KEEPALIVE_MS
    grace_left = (job.updated_at + timedelta(seconds=FINAL_EVENT_GRACE_S) - utcnow()).total_seconds()
    if grace_left <= 0 or not await bus.exists(job_id):
        return summary_event(job, locale)
    return max(50, min(KEEPALIVE_MS, int(grace_left * 1000)))  # look again as it ends


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
