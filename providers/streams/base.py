from __future__ import annotations

import asyncio
import json
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

TERMINAL = frozenset({"done", "error"})
_EVENT_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?", re.ASCII)
_MAX_PART = 2**64 - 1  # Redis stream ids are two unsigned 64-bit numbers


@dataclass(frozen=True)
class StreamEvent:
    id: str
    type: str
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL

    def sse(self) -> bytes:
        payload = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return f"id: {self.id}\nevent: {self.type}\ndata: {payload}\n\n".encode()


class StreamBus(Protocol):
    async def publish(self, key: str, type: str, data: dict[str, Any]) -> str:
        """Append an event; returns its id."""
        ...

    async def publish_many(self, key: str, events: list[tuple[str, dict[str, Any]]]) -> None: ...

    async def read(self, key: str, after: str | None, *, block_ms: int) -> list[StreamEvent]:
        """Events after ``after`` (all when None), waiting up to ``block_ms`` for the first."""
        ...

    async def request_stop(self, key: str) -> None:
        """Ask whoever is producing ``key``'s events to stop now (fire and forget: a producer
        that is not watching misses it, so callers keep a durable path too)."""
        ...

    def watch_stop(self, key: str) -> AbstractAsyncContextManager[asyncio.Event]:
        """An event set when a stop for ``key`` is requested, for the life of the block."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key``'s stream is still kept (streams expire after their TTL)."""
        ...

    async def ping(self) -> None:
        """Raise when the bus cannot be reached (readiness)."""
        ...

    async def aclose(self) -> None: ...


def parse_event_id(value: str | None) -> tuple[int, int] | None:
    """``<ms>-<seq>`` (or ``<ms>``) as numbers; None for anything a bus could not have issued
    (text, signs, Redis's special ids ``$ > + - *``, parts beyond 64 bits, non-ASCII digits)."""
    found = _EVENT_ID.fullmatch(value or "")
    if found is None:
        return None
    parts = (int(found.group(1)), int(found.group(2) or 0))
    return parts if max(parts) <= _MAX_PART else None


def resume_point(after: str | None, events: list[StreamEvent]) -> str | None:
    """Where a client's ``Last-Event-ID`` resumes, given the stream's events so far.

    An id that this stream never issued — malformed, or beyond its newest event (an expired
    stream has none) — resumes from the start, as a first connection would: the client gets
    every event again rather than a broken or endless stream. An id at or past the final event
    resumes just before it, so every stream still ends with ``done`` or ``error``."""
    wanted = parse_event_id(after)
    if wanted is None or not events:
        return None
    newest = events[-1]
    newest_id = parse_event_id(newest.id) or (0, 0)
    if wanted > newest_id:
        return None
    if newest.terminal and wanted == newest_id:
        return events[-2].id if len(events) > 1 else None
    return f"{wanted[0]}-{wanted[1]}"
