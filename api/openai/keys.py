"""Who is calling the OpenAI-compatible API (a personal key, nothing else) and the key's
per-minute limits, counted in Redis (``limits``) so that every API process enforces one limit.

- requests per minute: a moving window, one hit per request;
- tokens per minute: a fixed window of provider tokens; a request is admitted when its input
  estimate still fits, then its actual usage (input and output) is added when it ends.

Both are counted per key family, so a rotated key keeps its windows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from api.auth.deps import RequestUser
from api.deps import SessionDep, SettingsDep
from api.openai.errors import OpenAIError
from api.ratelimit import LimiterDep, RateLimiter
from core import accounts, apikeys
from core.models import ApiKey, User

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Caller:
    user: User
    key: ApiKey

    @property
    def family(self) -> str:
        return apikeys.family_of(self.key)


def invalid_key() -> OpenAIError:
    return OpenAIError(
        401,
        "Incorrect, revoked or expired API key. Create a key on your account page.",
        code="invalid_api_key",
    )


async def current_caller(
    request: Request, session: SessionDep, settings: SettingsDep, limiter: LimiterDep
) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not accounts.looks_like_api_key(token):
        raise invalid_key()
    found = await accounts.authenticate_api_key(session, token)
    if found is None:
        raise invalid_key()
    user, key = found
    request.state.user = RequestUser.of(user)  # errors from here on are in the owner's language
    structlog.contextvars.bind_contextvars(user_id=user.id, api_key_id=key.id)
    await limiter.hit(settings.rate_limit_api_user, "api-user", user.id)  # as every studio request
    return Caller(user, key)


CallerDep = Annotated[Caller, Depends(current_caller)]


class KeyLimits:
    def __init__(self, limiter: RateLimiter) -> None:
        self.requests = MovingWindowRateLimiter(limiter.storage)
        self.tokens = FixedWindowRateLimiter(limiter.storage)

    async def admit(self, caller: Caller, input_estimate: int) -> None:
        """Count this request; refuse with 429 when the key is over its rpm or tpm."""
        key = caller.key
        if key.rpm_limit is not None:
            item = RateLimitItemPerMinute(key.rpm_limit)
            if not await self._safely(self.requests.hit(item, "openai-rpm", caller.family)):
                wait = await self._retry_after(self.requests, item, caller.family)
                raise _limited("requests", RPM_MESSAGE, key.rpm_limit, wait)
        if key.tpm_limit is not None:
            item = RateLimitItemPerMinute(key.tpm_limit)
            cost = min(input_estimate, key.tpm_limit)
            if not await self._safely(self.tokens.test(item, "openai-tpm", caller.family, cost=cost)):
                wait = await self._retry_after(self.tokens, item, caller.family)
                raise _limited("tokens", TPM_MESSAGE, key.tpm_limit, wait)
            await self._safely(self.tokens.hit(item, "openai-tpm", caller.family, cost=input_estimate))

    async def used(self, caller: Caller, input_estimate: int, input_tokens: int, output_tokens: int) -> None:
        """Add what the turn really used beyond its admitted estimate."""
        if caller.key.tpm_limit is None:
            return
        extra = input_tokens + output_tokens - input_estimate
        if extra > 0:
            item = RateLimitItemPerMinute(caller.key.tpm_limit)
            await self._safely(self.tokens.hit(item, "openai-tpm", caller.family, cost=extra))

    @staticmethod
    async def _safely(check: object) -> bool:
        try:
            return bool(await check)  # type: ignore[misc]
        except Exception as error:  # noqa: BLE001 - a Redis outage must not take the API down
            log.warning("openai_api.ratelimit_storage_error", error=str(error))
            return True

    @staticmethod
    async def _retry_after(
        strategy: MovingWindowRateLimiter | FixedWindowRateLimiter, item: RateLimitItem, family: str
    ) -> int:
        name = "openai-rpm" if isinstance(strategy, MovingWindowRateLimiter) else "openai-tpm"
        try:
            stats = await strategy.get_window_stats(item, name, family)
            return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception:  # noqa: BLE001
            return 60


RPM_MESSAGE = "Rate limit reached for this key: {limit} requests per minute. Try again in {seconds} seconds."
TPM_MESSAGE = "Rate limit reached for this key: {limit} tokens per minute. Try again in {seconds} seconds."


def _limited(kind: str, message: str, limit: int, wait: int) -> OpenAIError:
    headers = {"Retry-After": str(wait)}
    return OpenAIError(
        429, message, type=kind, code="rate_limit_exceeded", headers=headers, limit=limit, seconds=wait
    )


async def get_key_limits(limiter: LimiterDep) -> KeyLimits:
    return KeyLimits(limiter)


KeyLimitsDep = Annotated[KeyLimits, Depends(get_key_limits)]
