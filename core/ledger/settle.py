"""settle: charge what a job used, once, and return the rest of its hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger.accounts import _active_grants, _consume, _reservation
from core.ledger.entries import _entry
from core.ledger.errors import InvalidAmount, ReservationNotFound
from core.ledger.results import SettleResult
from core.ledger.statements import (
    _ADD_TO_GRANT,
    _CLOSE_RESERVATION,
    _HOLDS,
    _TOUCH_RESERVATION_ACCOUNT,
    _ReservationRow,
)
from core.models import (
    EntryKind,
    ReservationStatus,
)
from core.models.base import utcnow


async def _locked_reservation(session: AsyncSession, key: str) -> _ReservationRow | None:
    """Lock the account of the reservation ``key`` (one UPDATE … FROM), then read it."""
    result = cast(CursorResult[Any], await session.execute(_TOUCH_RESERVATION_ACCOUNT, {"key": key}))
    if result.rowcount == 0:
        return None
    return await _reservation(session, key)


async def _return_holds(
    session: AsyncSession, reservation_id: str, keep: int, now: datetime
) -> tuple[int, int]:
    """Keep ``keep`` of the held amount (charged), give the rest back to unexpired grants.

    Returns (returned, lapsed): what went back, and what belonged to grants that expired."""
    returned = lapsed = 0
    left = keep
    given_back: list[dict[str, Any]] = []
    for held, grant_id, expires_at in (
        await session.execute(_HOLDS, {"reservation_id": reservation_id})
    ).all():
        used = min(left, held)
        left -= used
        back = held - used
        if back == 0:
            continue
        if expires_at > now:
            given_back.append({"grant_id": grant_id, "delta": back})
            returned += back
        else:
            lapsed += back
    if given_back:
        await session.execute(_ADD_TO_GRANT, given_back)
    return returned, lapsed


async def settle(
    session: AsyncSession, *, key: str, actual: int, now: datetime | None = None
) -> SettleResult:
    """Charge ``actual`` once: within the reservation from its holds, above it from what is
    available (the rest recorded as uncovered); give back what was not used. Idempotent."""
    now = now or utcnow()
    if actual < 0:
        raise InvalidAmount()
    reservation = await _locked_reservation(session, key)
    if reservation is None:
        raise ReservationNotFound()
    owner = (reservation.user_id, reservation.unit)
    if reservation.status == ReservationStatus.settled.value:
        return SettleResult(
            reservation.charged, reservation.released, reservation.overage, reservation.uncovered, owner
        )
    was_reserved = reservation.status == ReservationStatus.reserved.value
    within = min(actual, reservation.amount) if was_reserved else 0
    released = lapsed = 0
    if was_reserved:
        released, lapsed = await _return_holds(session, reservation.id, within, now)
    extra = actual - within
    overage = 0
    if extra > 0:
        grants = await _active_grants(session, reservation.user_id, reservation.unit, now)
        overage = sum(part for _grant, part in await _consume(session, grants, extra))
    result = SettleResult(
        charged=within + overage, released=released, overage=overage, uncovered=extra - overage, owner=owner
    )
    closed = {
        "status": ReservationStatus.settled.value,
        "charged": result.charged,
        "released": released,
        "overage": overage,
        "uncovered": result.uncovered,
        "closed_at": now,
    }
    await session.execute(_CLOSE_RESERVATION, {"reservation_id": reservation.id, **closed})
    await _entry(
        session,
        user_id=reservation.user_id,
        unit=reservation.unit,
        kind=EntryKind.settle,
        amount=result.charged,
        key=key,
        now=now,
        job_id=reservation.job_id,
        actual=actual,
        reserved=reservation.amount,
        released=released,
        lapsed=lapsed,
        overage=overage,
        uncovered=result.uncovered,
        after_release=not was_reserved,
    )
    return result
