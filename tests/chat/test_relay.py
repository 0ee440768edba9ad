"""The SSE relay drops events of a superseded stream attempt (on the in-memory bus)."""

from __future__ import annotations

from typing import Any

from api.chat.sse import _relay
from core.db import Database
from providers.streams import MemoryStreamBus


async def frames(bus: MemoryStreamBus, db: Database, key: str, after: str | None) -> list[str]:
    out = []
    async for frame in _relay(bus, db, key, after):
        out.append(frame.decode())
        if "event: done" in out[-1]:
            break
    return out


async def test_events_of_an_attempt_older_than_the_newest_restart_are_dropped(db: Database) -> None:
    bus = MemoryStreamBus()
    key = "turn-stale"
    await bus.publish(key, "delta", {"text": "It ", "attempt": 1})
    await bus.publish(key, "restart", {"attempt": 2})
    resume_here = await bus.publish(key, "delta", {"text": "It ", "attempt": 2})
    await bus.publish(key, "delta", {"text": "speaks ", "attempt": 1})  # stale
    await bus.publish(key, "delta", {"text": "speaks", "attempt": 2})
    await bus.publish(key, "done", {"stopped": False})
    sent: Any = await frames(bus, db, key, None)
    text = "".join(f for f in sent if "event: delta" in f)
    assert (
        text.count("speaks") == 1 and '"attempt":1' in sent[1]
    )  # attempt 1's first delta: before the restart
    # resuming after the restart: the relay learns attempt 2 is current from what was sent
    resumed = await frames(bus, db, key, resume_here)
    assert not any('"attempt":1' in f for f in resumed)
    assert any('"speaks","attempt":2' in f for f in resumed)
