"""Both stream-bus backends behave the same: ordered ids, resume after an id, blocking reads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from providers.streams import MemoryStreamBus, RedisStreamBus, StreamBus

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest_asyncio.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[StreamBus]:
    instance: StreamBus
    if request.param == "memory":
        instance = MemoryStreamBus()
    else:
        instance = RedisStreamBus.from_url(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}:")
    yield instance
    await instance.aclose()


async def test_resume_after_an_event_id(bus: StreamBus) -> None:
    key = uuid.uuid4().hex
    for i in range(5):
        await bus.publish(key, "delta", {"text": f"ك{i}"})
    await bus.publish(key, "done", {"stopped": False})
    everything = await bus.read(key, None, block_ms=0)
    assert [e.type for e in everything] == ["delta"] * 5 + ["done"]
    assert everything[0].data == {"text": "ك0"}
    rest = await bus.read(key, everything[2].id, block_ms=0)
    assert [e.id for e in rest] == [e.id for e in everything[3:]]
    assert everything[-1].terminal and not everything[0].terminal


async def test_blocking_read_wakes_on_publish(bus: StreamBus) -> None:
    key = uuid.uuid4().hex

    async def later() -> None:
        await asyncio.sleep(0.05)
        await bus.publish_many(key, [("delta", {"text": "a"}), ("delta", {"text": "b"})])

    task = asyncio.create_task(later())
    events = await bus.read(key, None, block_ms=2000)
    await task
    assert events and events[0].data == {"text": "a"}


async def test_read_times_out_empty(bus: StreamBus) -> None:
    assert await bus.read(uuid.uuid4().hex, None, block_ms=50) == []


def test_sse_frame_keeps_arabic_and_id() -> None:
    from providers.streams import StreamEvent

    frame = StreamEvent("3-0", "delta", {"text": "مرحبا"}).sse().decode()
    assert frame == 'id: 3-0\nevent: delta\ndata: {"text":"مرحبا"}\n\n'


async def test_coalescing_publisher_keeps_text_and_order(bus: StreamBus) -> None:
    from providers.streams.publisher import CoalescingPublisher

    key = uuid.uuid4().hex
    publisher = CoalescingPublisher(bus, key)
    for i in range(50):
        publisher.add(f"{i},")
    await publisher.drain()
    events = await bus.read(key, None, block_ms=0)
    assert "".join(e.data["text"] for e in events) == "".join(f"{i}," for i in range(50))
    assert 1 <= len(events) < 50


async def test_stop_request_wakes_the_watcher_of_that_key_only(bus: StreamBus) -> None:
    key, other = uuid.uuid4().hex, uuid.uuid4().hex
    async with bus.watch_stop(key) as stopped, bus.watch_stop(other) as untouched:
        await bus.request_stop(key)
        await asyncio.wait_for(stopped.wait(), 2)
        await asyncio.sleep(0.05)
        assert not untouched.is_set()


async def test_a_stop_nobody_watches_is_dropped(bus: StreamBus) -> None:
    key = uuid.uuid4().hex
    await bus.request_stop(key)
    async with bus.watch_stop(key) as stopped:
        await asyncio.sleep(0.05)
        assert not stopped.is_set()
