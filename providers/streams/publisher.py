"""Publishing text deltas without a bus round trip per token."""

from __future__ import annotations

import asyncio

from providers.streams.base import StreamBus


class CoalescingPublisher:
    """Publishes deltas as fast as the bus takes them: while one publish is in flight, later
    deltas are joined into the next event. Same text, same order, far fewer events when a
    provider sends a burst (the first delta never waits)."""

    def __init__(self, bus: StreamBus, key: str, event_type: str = "delta") -> None:
        self._bus = bus
        self._key = key
        self._type = event_type
        self._pending: list[str] = []
        self._flusher: asyncio.Task[None] | None = None

    def add(self, text: str) -> None:
        self._pending.append(text)
        if self._flusher is not None and self._flusher.done():
            self._flusher.result()  # a failed publish surfaces here
            self._flusher = None
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            await self._bus.publish(self._key, self._type, {"text": text})

    async def drain(self) -> None:
        """Wait until everything added so far is on the bus."""
        if self._flusher is not None:
            await self._flusher
            self._flusher = None
        await self._flush()
