"""Typed provider errors: retryable ones carry the server's retry-after as the delay.

Retryable: 408, 409, 429 rate limits, 5xx, 529, connection errors, mid-stream overloads and
streams that end without usage. Non-retryable: other 4xx, ``insufficient_quota``, spend
limits and content-policy refusals. Temporal's retry policy acts on this split.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx

RETRYABLE_STATUSES = {408, 409, 429}


def _transport_errors() -> tuple[type[Exception], ...]:
    """httpx transport errors, and httpx2's (some SDK versions ship on the fork)."""
    found: list[type[Exception]] = [httpx.TransportError]
    try:
        import httpx2

        found.append(httpx2.TransportError)
    except ImportError:  # pragma: no cover - depends on the SDK versions installed
        pass
    return tuple(found)


TRANSPORT_ERRORS = _transport_errors()


class ProviderError(Exception):
    retryable = False

    def __init__(
        self, message: str, provider: str, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"{self.provider} {self.status or '-'} {self.code or '-'}: {self.message}"


class RetryableProviderError(ProviderError):
    retryable = True

    def __init__(
        self,
        message: str,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider, status, code)
        self.retry_after = retry_after


class NonRetryableProviderError(ProviderError):
    pass


def retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


def by_status(
    message: str, provider: str, status: int, code: str | None, retry_after: float | None
) -> ProviderError:
    if retryable_status(status):
        return RetryableProviderError(message, provider, status, code, retry_after)
    return NonRetryableProviderError(message, provider, status, code)


def retry_after_from(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(float(lowered["retry-after-ms"]) / 1000, 0.0)
        if "retry-after" in lowered:
            return max(float(lowered["retry-after"]), 0.0)
    except ValueError:
        parsed: Any = email.utils.parsedate_tz(lowered.get("retry-after", ""))
        if parsed is not None:
            return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)
    return None
