"""Publishing text deltas without a bus round trip per token."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from core.outages import is_outage
from providers.streams.base import StreamBus

log = structlog.get_logger(__name__)
RETRY_MAX_S = 2.0  # a bus outage: the longest wait between tries (the text waits, in order)


class CoalescingPublisher:
    """Publishes deltas as fast as the bus takes them: while one publish is in flight, later
    deltas are joined into the next event. Same text, same order, far fewer events when a
    provider sends a burst (the first delta never waits).

    ``extra`` goes into every event (the activity attempt that produced it). While the bus is
    unreachable the text is kept and retried, so a Redis outage delays deltas but never loses
    or reorders them; ``close()`` drops whatever was not published yet (a superseded attempt)."""

    def __init__(
        self, bus: StreamBus, key: str, event_type: str = "delta", *, extra: dict[str, Any] | None = None
    ) -> None:
        self._bus = bus
        self._key = key
        self._type = event_type
        self._extra = extra or {}
        self._pending: list[str] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, text: str) -> None:
        if self._closed:
            return
        self._pending.append(text)
        if self._flusher is not None and self._flusher.done():
            self._flusher.result()  # a failed publish surfaces here
            self._flusher = None
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending and not self._closed:
            text = "".join(self._pending)
            self._pending.clear()
            await self._publish(text)

    async def _publish(self, text: str) -> None:
        wait = 0.1
        while not self._closed:
            try:
                await self._bus.publish(self._key, self._type, {"text": text, **self._extra})
                return
            except Exception as error:
                if not is_outage(error):
                    raise
                log.warning("streams.publish_retry", error=type(error).__name__, wait_s=wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MAX_S)

    async def drain(self) -> None:
        """Wait until everything added so far is on the bus."""
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        await self._flush()

    def close(self) -> None:
        """Publish nothing more (what is pending is dropped)."""
        self._closed = True
        self._pending.clear()
        if self._flusher is not None:
            self._flusher.cancel()
