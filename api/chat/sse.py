"""Relay a turn's events from the stream bus as Server-Sent Events (the loop, its fault rules
and the stale-attempt filter are api/relay.py's, shared with the jobs' relay and the
OpenAI-compatible API).

A stream that ended long ago (expired from the bus) is summarised from the database, with or
without ``Last-Event-ID``, once its job has been final for ``FINAL_EVENT_GRACE_S``: its ``done``
carries the stored reply's whole ``text`` (live ``done`` events carry none: the deltas did)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import relay as shared
from api.relay import KEEPALIVE_MS
from core import chat
from core.db import Database
from core.models import JobStatus
from core.models.base import utcnow
from providers.streams import StreamBus, StreamEvent

FINAL_EVENT_GRACE_S = 30  # a job final for longer whose stream never got its final event: summarised
TERMINAL_JOB_STATES = {JobStatus.succeeded.value, JobStatus.failed.value, JobStatus.cancelled.value}


_open_relays = 0  # in this process


def open_relays() -> int:
    """Event streams this process is relaying now: how busy it is with chat."""
    return _open_relays


async def relay(bus: StreamBus, db: Database, turn_id: str, after: str | None) -> AsyncIterator[bytes]:
    """Yield SSE frames from ``after`` until the turn's ``done`` or ``error`` event."""
    global _open_relays
    _open_relays += 1
    try:
        async for frame in _relay(bus, db, turn_id, after):
            yield frame
    finally:
        _open_relays -= 1


def _relay(bus: StreamBus, db: Database, turn_id: str, after: str | None) -> AsyncIterator[bytes]:
    return shared.relay(bus, turn_id, after, lambda: finished_without_events(bus, db, turn_id))


StoredReply = Callable[[AsyncSession, str], Awaitable[chat.ReplyRecord | None]]


async def finished_without_events(
    bus: StreamBus, db: Database, turn_id: str, stored: StoredReply = chat.stored_reply
) -> StreamEvent | int:
    """A turn that ended long ago (its stream expired) is summarised from the database; else
    the next read waits a keepalive. Shared with the OpenAI-compatible API (api/openai/stream.py),
    whose turns keep their reply elsewhere (``stored``: core.apiturns.stored_api_reply)."""
    async with db.reader() as session:
        job = await chat.get_turn_job(session, turn_id)
        if job.status not in TERMINAL_JOB_STATES:
            return KEEPALIVE_MS
        failed = job.status == JobStatus.failed.value
        reply = None if failed else await stored(session, turn_id)
    recent = job.updated_at > utcnow() - timedelta(seconds=FINAL_EVENT_GRACE_S)
    if recent and await bus.exists(turn_id):
        # Its final event is still on its way (the job row is written first), or its events
        # came between the empty read and now: read again rather than summarise them away.
        return KEEPALIVE_MS
    if failed:
        return StreamEvent("0-1", "error", {"code": job.error_code, "message": job.error_message})
    return StreamEvent("0-1", "done", summary_of(job.status, job.cost_tokens, reply))


def summary_of(status: str, charged: int, reply: chat.ReplyRecord | None) -> dict[str, Any]:
    """A finished turn's ``done`` from the database: ``text`` is the whole stored reply, so a
    client whose deltas were lost (the stream expired, Redis came back without it) still gets
    it, and ``usage`` the stored token counts."""
    usage = {"studio_tokens": charged}
    summary: dict[str, Any] = {"stopped": status == JobStatus.cancelled.value, "usage": usage}
    if reply is not None:
        usage |= {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens}
        summary["text"] = reply.text
    return summary
