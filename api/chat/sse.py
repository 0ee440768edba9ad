"""Relay a turn's events from the stream bus as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core import chat
from core.db import Database
from core.models import JobStatus
from providers.streams import StreamBus, StreamEvent

KEEPALIVE_MS = 5000
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


async def _relay(bus: StreamBus, db: Database, turn_id: str, after: str | None) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    cursor = after
    while True:
        events = await bus.read(turn_id, cursor, block_ms=KEEPALIVE_MS)
        for event in events:
            yield event.sse()
            cursor = event.id
            if event.terminal:
                return
        if not events:
            finished = await _finished_without_events(db, turn_id, cursor)
            if finished is not None:
                yield finished.sse()
                return
            yield b": keepalive\n\n"


async def _finished_without_events(db: Database, turn_id: str, cursor: str | None) -> StreamEvent | None:
    """A turn that ended long ago (its stream expired) is summarised from the database."""
    if cursor is not None:
        return None
    async with db.reader() as session:
        job = await chat.get_turn_job(session, turn_id)
    if job.status not in TERMINAL_JOB_STATES:
        return None
    if job.status == JobStatus.failed.value:
        return StreamEvent("0-1", "error", {"code": job.error_code, "message": job.error_message})
    return StreamEvent(
        "0-1",
        "done",
        {"stopped": job.status == JobStatus.cancelled.value, "usage": {"studio_tokens": job.cost_tokens}},
    )
