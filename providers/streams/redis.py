from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio import Redis

from providers.streams.base import StreamEvent

log = structlog.get_logger(__name__)


class RedisStreamBus:
    """Redis Streams: XADD (approximately trimmed) + EXPIRE; XREAD BLOCK to follow.

    Stop requests go over one Pub/Sub channel: each process subscribes once (on its first
    ``watch_stop``) and wakes the watchers of the named key."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_s: int = 3600, max_len: int = 20000) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._max_len = max_len
        self._stop_channel = f"{prefix}stop"
        self._stop_watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> RedisStreamBus:
        redis = Redis.from_url(
            url, decode_responses=True, max_connections=1024, socket_timeout=60, socket_connect_timeout=5
        )
        return cls(redis, prefix=prefix)

    def _key(self, key: str) -> str:
        return f"{self._prefix}stream:{key}"

    async def publish(self, key: str, type: str, data: dict[str, Any]) -> str:
        name = self._key(key)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(
                name,
                {"t": type, "d": json.dumps(data, ensure_ascii=False)},
                maxlen=self._max_len,
                approximate=True,
            )
            pipe.expire(name, self._ttl_s)
            event_id, _ = await pipe.execute()
        return str(event_id)

    async def publish_many(self, key: str, events: list[tuple[str, dict[str, Any]]]) -> None:
        if not events:
            return
        name = self._key(key)
        async with self._redis.pipeline(transaction=False) as pipe:
            for type, data in events:
                pipe.xadd(
                    name,
                    {"t": type, "d": json.dumps(data, ensure_ascii=False)},
                    maxlen=self._max_len,
                    approximate=True,
                )
            pipe.expire(name, self._ttl_s)
            await pipe.execute()

    async def read(self, key: str, after: str | None, *, block_ms: int) -> list[StreamEvent]:
        name = self._key(key)
        reply: Any = await self._redis.xread({name: after or "0-0"}, block=block_ms or None, count=1000)
        events: list[StreamEvent] = []
        for _stream, entries in reply or []:
            for event_id, fields in entries:
                events.append(StreamEvent(id=str(event_id), type=fields["t"], data=json.loads(fields["d"])))
        return events

    async def request_stop(self, key: str) -> None:
        await self._redis.publish(self._stop_channel, key)

    @contextlib.asynccontextmanager
    async def watch_stop(self, key: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._stop_watchers[key].add(event)
        try:
            if self._listener is None or self._listener.done():
                self._listener = asyncio.create_task(self._listen_for_stops())
            with contextlib.suppress(TimeoutError):  # not subscribed yet: the caller's durable path
                await asyncio.wait_for(self._subscribed.wait(), 1.0)
            yield event
        finally:
            self._stop_watchers[key].discard(event)
            if not self._stop_watchers[key]:
                del self._stop_watchers[key]

    async def _listen_for_stops(self) -> None:
        """Follow the stop channel for as long as the process lives, resubscribing after errors."""
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._stop_channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    for event in self._stop_watchers.get(str(message.get("data")), ()):
                        event.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - keep listening after a Redis hiccup
                log.warning("streams.stop_listener_failed", error=str(error))
                self._subscribed.clear()
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def exists(self, key: str) -> bool:
        return bool(await self._redis.exists(self._key(key)))

    async def ping(self) -> None:
        await self._redis.ping()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self._redis.aclose()
