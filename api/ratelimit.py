"""Rate limits with ``limits``: Redis storage when ``settings.redis_url`` is set (keys under
``settings.redis_prefix``), in-process memory otherwise. Over a limit → ``RateLimited`` (429,
``Retry-After``, code ``rate_limited``).

Reuse from any handler::

    limiter: LimiterDep
    await limiter.hit(settings.rate_limit_chat_user, "chat", user.id)
"""

from __future__ import annotations

import functools
import math
import time
from typing import Annotated

import structlog
from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from api.deps import StateDep
from core.errors import RateLimited
from core.settings import Settings

log = structlog.get_logger(__name__)
STATE_KEY = "rate_limiter"


class RedispyStorage(RedisStorage):
    """limits' Redis storage on redis-py, which the stream bus loads anyway.

    ``RedisStorage`` defaults to coredis, and even with ``implementation="redispy"`` it imports
    every client it lists (coredis pulls in beartype and pympler: ~13 MB resident). Listing only
    redis-py keeps the same Lua scripts and keys without the extra client."""

    DEPENDENCIES = {"redis": RedisStorage.DEPENDENCIES["redis"]}

    def __init__(self, uri: str, *, key_prefix: str) -> None:
        super().__init__(uri, implementation="redispy", key_prefix=key_prefix)


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.storage: Storage
        if settings.redis_url:
            uri = settings.redis_url
            if not uri.startswith("async+"):
                uri = f"async+{uri}"
            self.storage = RedispyStorage(uri, key_prefix=f"{settings.redis_prefix}ratelimit")
        else:
            self.storage = MemoryStorage()
        self.strategy = MovingWindowRateLimiter(self.storage)

    async def hit(self, limit: str, *identifiers: str) -> None:
        """Count one hit against every window in ``limit`` (e.g. "5/10 minutes; 20/day")."""
        for item in _parsed(limit):
            if not await self._hit(item, identifiers):
                raise RateLimited(retry_after=await self._retry_after(item, identifiers))

    async def _hit(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> bool:
        try:
            return await self.strategy.hit(item, *identifiers)
        except Exception as error:  # noqa: BLE001 - a storage outage must not take sign-in down
            log.warning("ratelimit.storage_error", error=str(error))
            return True

    async def _retry_after(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> int:
        try:
            stats = await self.strategy.get_window_stats(item, *identifiers)
            return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:  # noqa: BLE001
            return int(item.get_expiry())

    async def reset(self) -> None:
        await self.storage.reset()


async def get_limiter(state: StateDep) -> RateLimiter:
    limiter = state.extras.get(STATE_KEY)
    if limiter is None:
        limiter = state.extras[STATE_KEY] = RateLimiter(state.settings)
    assert isinstance(limiter, RateLimiter)
    return limiter


@functools.lru_cache(maxsize=64)
def _parsed(limit: str) -> tuple[RateLimitItem, ...]:
    """A limit string's windows, parsed once (every authenticated request hits one)."""
    return tuple(parse_many(limit))


def client_ip(request: Request) -> str:
    """The peer address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
