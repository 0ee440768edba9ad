from __future__ import annotations

import asyncio
import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

TERMINAL = frozenset({"done", "error"})


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
