from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from providers.streams.base import StreamEvent


def _seq(event_id: str | None) -> int:
    if not event_id:
        return 0
    try:
        return int(event_id.split("-")[0])
    except ValueError:
        return 0


class MemoryStreamBus:
    """Single-process bus (dev). Streams expire ``ttl_s`` after their last event."""

    def __init__(self, ttl_s: float = 3600.0) -> None:
        self._events: dict[str, list[StreamEvent]] = defaultdict(list)
        self._touched: dict[str, float] = {}
        self._changed: dict[str, asyncio.Condition] = {}
        self._ttl_s = ttl_s
        self._stop_watchers: dict[str, set[asyncio.Event]] = defaultdict(set)

    def _condition(self, key: str) -> asyncio.Condition:
        if key not in self._changed:
            self._changed[key] = asyncio.Condition()
        return self._changed[key]

    async def publish(self, key: str, type: str, data: dict[str, Any]) -> str:
        events = self._events[key]
        event = StreamEvent(id=f"{len(events) + 1}-0", type=type, data=data)
        events.append(event)
        self._touched[key] = time.monotonic()
        condition = self._condition(key)
        async with condition:
            condition.notify_all()
        self._expire_old()
        return event.id

    async def publish_many(self, key: str, events: list[tuple[str, dict[str, Any]]]) -> None:
        for type, data in events:
            await self.publish(key, type, data)

    async def read(self, key: str, after: str | None, *, block_ms: int) -> list[StreamEvent]:
        start = _seq(after)
        condition = self._condition(key)
        async with condition:
            if len(self._events.get(key, [])) <= start and block_ms > 0:
                try:
                    await asyncio.wait_for(
                        condition.wait_for(lambda: len(self._events.get(key, [])) > start), block_ms / 1000
                    )
                except TimeoutError:
                    return []
        return list(self._events.get(key, [])[start:])

    def _expire_old(self) -> None:
        cutoff = time.monotonic() - self._ttl_s
        for key in [k for k, at in self._touched.items() if at < cutoff]:
            self._events.pop(key, None)
            self._touched.pop(key, None)
            self._changed.pop(key, None)

    async def request_stop(self, key: str) -> None:
        for event in self._stop_watchers.get(key, ()):
            event.set()

    @contextlib.asynccontextmanager
    async def watch_stop(self, key: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._stop_watchers[key].add(event)
        try:
            yield event
        finally:
            self._stop_watchers[key].discard(event)
            if not self._stop_watchers[key]:
                del self._stop_watchers[key]

    async def exists(self, key: str) -> bool:
        self._expire_old()
        return key in self._events

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None
