"""Telling an outage of our own infrastructure (PostgreSQL, Redis, the network to them) from a
bug: outages are retried and answered 503 ``service_unavailable``, never reported as a 500 or as
the model's fault (DESIGN "Rules that hold under faults")."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import AppError

RETRY_AFTER_S = 5  # what a 503 tells clients: the outages we ride out last seconds to a minute
_OUTAGE_BASES = (ConnectionError, TimeoutError, OSError, PoolTimeout, DisconnectionError)
_REDIS_OUTAGES = {"ConnectionError", "TimeoutError", "BusyLoadingError", "ReadOnlyError"}
_ASYNCPG_OUTAGES = {
    "ConnectionDoesNotExistError",
    "ConnectionFailureError",
    "CannotConnectNowError",
    "InterfaceError",
    "InternalClientError",
    "ConnectionRejectionError",
    "TooManyConnectionsError",
    "AdminShutdownError",
    "CrashShutdownError",
}


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
    message = "The service is briefly unavailable. Please try again in a moment."
    retry_after = RETRY_AFTER_S


def is_outage(error: BaseException) -> bool:
    """True for errors that mean a dependency is unreachable or restarting (not our bug)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_outage_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage_itself(error: BaseException) -> bool:
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, _OUTAGE_BASES):
        return True
    module = type(error).__module__
    name = type(error).__name__
    if module.startswith("redis") and name in _REDIS_OUTAGES:
        return True
    return module.startswith("asyncpg") and name in _ASYNCPG_OUTAGES
