"""release: return a whole reservation, once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger.entries import _entry
from core.ledger.settle import _locked_reservation, _return_holds
from core.ledger.statements import _CLOSE_RESERVATION
from core.models import (
    EntryKind,
    ReservationStatus,
)
from core.models.base import utcnow


async def release(
    session: AsyncSession,
    *,
    key: str,
    actor: str = "system",
    reason: str = "",
    now: datetime | None = None,
) -> bool:
    """Give a reservation back. Unknown key, or already settled/released: no-op (False)."""
    now = now or utcnow()
    reservation = await _locked_reservation(session, key)
    if reservation is None or reservation.status != ReservationStatus.reserved.value:
        return False
    returned, lapsed = await _return_holds(session, reservation.id, 0, now)
    closed = {
        "status": ReservationStatus.released.value,
        "charged": reservation.charged,
        "released": returned,
        "overage": reservation.overage,
        "uncovered": reservation.uncovered,
        "closed_at": now,
    }
    await session.execute(_CLOSE_RESERVATION, {"reservation_id": reservation.id, **closed})
    await _entry(
        session,
        user_id=reservation.user_id,
        unit=reservation.unit,
        kind=EntryKind.release,
        amount=returned,
        key=key,
        now=now,
        job_id=reservation.job_id,
        actor=actor,
        reason=reason,
        reserved=reservation.amount,
        lapsed=lapsed,
    )
    return True
