"""Relay a turn's events from the stream bus as Server-Sent Events.

Events from a stream attempt older than the newest ``restart`` are dropped (an attempt replaced
after its heartbeat timed out may still publish for a moment). A stream that ended long ago
(expired from the bus) is summarised from the database, with or without ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

from core import chat
from core.db import Database
from core.models import JobStatus
from core.models.base import utcnow
from core.outages import is_outage
from providers.streams import StreamBus, StreamEvent

KEEPALIVE_MS = 5000
OUTAGE_RETRY_S = 1.0
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


async def _relay(bus: StreamBus, db: Database, turn_id: str, after: str | None) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    cursor = after
    attempts = _Attempts()
    learned = after is None  # resuming: learn which attempt is current from what was sent
    while True:
        try:
            if not learned:
                attempts.learn(await bus.read(turn_id, None, block_ms=0), up_to=after or "")
                learned = True
            events = await bus.read(turn_id, cursor, block_ms=KEEPALIVE_MS)
            finished = None if events else await _finished_without_events(bus, db, turn_id)
        except Exception as error:
            if not is_outage(error):
                raise
            # Redis or PostgreSQL away: the stream stays open and picks up where it was.
            yield b": waiting for the service\n\n"
            await asyncio.sleep(OUTAGE_RETRY_S)
            continue
        for event in events:
            cursor = event.id
            if attempts.stale(event):
                continue
            yield event.sse()
            if event.terminal:
                return
        if finished is not None:
            yield finished.sse()
            return
        if not events:
            yield b": keepalive\n\n"


class _Attempts:
    """The newest stream attempt announced by a ``restart``; older attempts' events are stale."""

    def __init__(self) -> None:
        self.newest = 0

    def stale(self, event: StreamEvent) -> bool:
        attempt = event.data.get("attempt") if isinstance(event.data, dict) else None
        if not isinstance(attempt, int):
            return False  # events of the workflow's own steps (usage, done, error)
        if event.type == "restart":
            self.newest = max(self.newest, attempt)
            return False
        return attempt < self.newest

    def learn(self, events: list[StreamEvent], *, up_to: str) -> None:
        for event in events:
            if _id_after(event.id, up_to):
                return
            self.stale(event)


def _id_after(event_id: str, other: str) -> bool:
    def parts(value: str) -> tuple[int, int]:
        first, _, second = value.partition("-")
        try:
            return int(first), int(second or 0)
        except ValueError:
            return 0, 0

    return parts(event_id) > parts(other)


async def _finished_without_events(bus: StreamBus, db: Database, turn_id: str) -> StreamEvent | None:
    """A turn that ended long ago (its stream expired) is summarised from the database."""
    async with db.reader() as session:
        job = await chat.get_turn_job(session, turn_id)
    if job.status not in TERMINAL_JOB_STATES:
        return None
    recent = job.updated_at > utcnow() - timedelta(seconds=FINAL_EVENT_GRACE_S)
    if recent and await bus.exists(turn_id):
        # Its final event is still on its way (the job row is written first), or its events
        # came between the empty read and now: read again rather than summarise them away.
        return None
    if job.status == JobStatus.failed.value:
        return StreamEvent("0-1", "error", {"code": job.error_code, "message": job.error_message})
    return StreamEvent(
        "0-1",
        "done",
        {"stopped": job.status == JobStatus.cancelled.value, "usage": {"studio_tokens": job.cost_tokens}},
    )
