from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from providers.streams.base import StreamEvent


class RedisStreamBus:
    """Redis Streams: XADD (approximately trimmed) + EXPIRE; XREAD BLOCK to follow."""

    def __init__(self, redis: Redis, *, prefix: str, ttl_s: int = 3600, max_len: int = 20000) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_s = ttl_s
        self._max_len = max_len

    @classmethod
    def from_url(cls, url: str, *, prefix: str) -> RedisStreamBus:
        redis = Redis.from_url(url, decode_responses=True, max_connections=1024, socket_timeout=60)
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

    async def aclose(self) -> None:
        await self._redis.aclose()
