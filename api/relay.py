"""The relay loop shared by every reader of a key's stream-bus events: chat's and the jobs'
SSE streams (api/chat/sse.py, api/jobs/sse.py, through ``relay``) and the OpenAI-compatible
API's completions (api/openai/stream.py, through ``follow``). It follows the key's events from
the client's ``Last-Event-ID`` until a ``done`` or ``error`` event, or until the caller's
``finished`` callback ends it with a summary from the database (its stream expired, its final
event was lost).

The fault rules (DESIGN "Rules that hold under faults"): while Redis or PostgreSQL is away the
stream stays open (``: waiting for the service`` every ``OUTAGE_RETRY_S``) and picks up where it
was; events of a stream attempt older than the newest ``restart`` are dropped (an attempt
replaced after its heartbeat timed out may still publish for a moment); an id the stream never
issued (malformed, or beyond its newest event) resumes from the start (``resume_point``)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from core.outages import is_outage
from providers.streams import StreamBus, StreamEvent, parse_event_id, resume_point

KEEPALIVE_MS = 5000
OUTAGE_RETRY_S = 1.0

# Called after a read that found nothing new: the event that ends the stream (a summary of the
# stored outcome), or how many milliseconds the next read may wait for new events.
Finished = Callable[[], Awaitable[StreamEvent | int]]


class Pause(enum.Enum):
    """What ``follow`` yields instead of an event; its value is the SSE comment relayed for it."""

    keepalive = b": keepalive\n\n"  # nothing new for a while
    waiting = b": waiting for the service\n\n"  # Redis or PostgreSQL away: trying again


async def relay(
    bus: StreamBus, key: str, after: str | None, finished: Finished, *, first_wait_ms: int = KEEPALIVE_MS
) -> AsyncIterator[bytes]:
    """Yield SSE frames after ``after`` until a terminal event or ``finished``'s summary."""
    yield b"retry: 1000\n\n"
    async with contextlib.aclosing(follow(bus, key, after, finished, first_wait_ms=first_wait_ms)) as items:
        async for item in items:
            yield item.value if isinstance(item, Pause) else item.sse()


async def follow(
    bus: StreamBus, key: str, after: str | None, finished: Finished, *, first_wait_ms: int = KEEPALIVE_MS
) -> AsyncGenerator[StreamEvent | Pause, None]:
    """The key's current events after ``after``, ending with a terminal event or ``finished``'s
    summary, with a ``Pause`` after a read that found nothing and on each try through an outage.
    ``first_wait_ms``: how long the first read waits for an event before ``finished`` is asked."""
    cursor = after
    attempts = Attempts()
    learned = after is None  # resuming: learn which attempt is current from what was sent
    wait_ms = first_wait_ms
    while True:
        try:
            if not learned:
                history = await bus.read(key, None, block_ms=0)
                cursor = resume_point(after, history)  # an id never issued: from the start
                attempts.learn(history, up_to=cursor or "")
                learned = True
            events = await bus.read(key, cursor, block_ms=wait_ms)
            outcome = None if events else await finished()
        except Exception as error:
            if not is_outage(error):
                raise
            # Redis or PostgreSQL away: the stream stays open and picks up where it was.
            yield Pause.waiting
            await asyncio.sleep(OUTAGE_RETRY_S)
            continue
        for event in events:
            cursor = event.id
            if attempts.stale(event):
                continue
            yield event
            if event.terminal:
                return
        if isinstance(outcome, StreamEvent):
            yield outcome
            return
        wait_ms = KEEPALIVE_MS if outcome is None else outcome
        if not events:
            yield Pause.keepalive


class Attempts:
    """The newest stream attempt announced by a ``restart``; older attempts' events are stale.
    A terminal event is never stale: it is the job's outcome (the jobs' ``done``/``error`` carry
    the attempt of the activity that finished the job, not of the one that restarted)."""

    def __init__(self) -> None:
        self.newest = 0

    def stale(self, event: StreamEvent) -> bool:
        attempt = event.data.get("attempt") if isinstance(event.data, dict) else None
        if not isinstance(attempt, int) or event.terminal:
            return False  # events of the workflow's own steps (usage, done, error)
        if event.type == "restart":
            self.newest = max(self.newest, attempt)
            return False
        return attempt < self.newest

    def learn(self, events: list[StreamEvent], *, up_to: str) -> None:
        """Replay the ``restart``s of what the client was already sent (up to ``up_to``)."""
        limit = parse_event_id(up_to) or (0, 0)
        for event in events:
            if (parse_event_id(event.id) or (0, 0)) > limit:
                return
            self.stale(event)
