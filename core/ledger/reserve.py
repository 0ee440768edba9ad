"""reserve: hold quota for a job (atomic; tokens may shrink to what is left)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger.accounts import _active_grants, _consume, _reservation, lock_account
from core.ledger.entries import _entry
from core.ledger.errors import InvalidAmount, KeyInUse, QuotaExceeded, as_unit
from core.ledger.results import Reservation
from core.ledger.statements import _INSERT_HOLD, _INSERT_RESERVATION
from core.models import (
    EntryKind,
    ReservationStatus,
)
from core.models.base import new_id, utcnow
from core.plans import Unit


async def reserve(
    session: AsyncSession,
    *,
    user_id: str,
    unit: Unit | str,
    amount: int,
    key: str,
    job_id: str | None = None,
    workflow_id: str | None = None,
    min_amount: int | None = None,
    now: datetime | None = None,
) -> Reservation:
    """Hold ``amount`` (or, for tokens with ``min_amount``, what is left if at least that)."""
    unit = as_unit(unit)
    now = now or utcnow()
    if amount <= 0 or (min_amount is not None and min_amount <= 0):
        raise InvalidAmount()
    await lock_account(session, user_id, unit)
    existing = await _reservation(session, key)
    if existing is not None:
        if existing.user_id != user_id:
            raise KeyInUse()
        return Reservation(key=key, amount=existing.amount, reduced=existing.reduced, status=existing.status)
    grants = await _active_grants(session, user_id, unit.value, now)
    have = sum(grant.remaining for grant in grants)
    take = amount
    if have < amount:
        if unit is Unit.tokens and min_amount is not None and min_amount <= have:
            take = have
        else:
            raise QuotaExceeded(unit=unit.value, requested=amount, available=have)
    reservation = {
        "id": new_id(),
        "key": key,
        "user_id": user_id,
        "unit": unit.value,
        "requested": amount,
        "amount": take,
        "reduced": take < amount,
        "status": ReservationStatus.reserved.value,
        "job_id": job_id,
        "workflow_id": workflow_id,
        "created_at": now,
    }
    await session.execute(_INSERT_RESERVATION, reservation)
    holds = [
        {"reservation_id": reservation["id"], "grant_id": grant.id, "amount": part}
        for grant, part in await _consume(session, grants, take)
    ]
    if holds:
        await session.execute(_INSERT_HOLD, holds)
    await _entry(
        session,
        user_id=user_id,
        unit=unit.value,
        kind=EntryKind.reserve,
        amount=take,
        key=key,
        now=now,
        job_id=job_id,
        requested=amount,
        workflow_id=workflow_id,
    )
    return Reservation(key=key, amount=take, reduced=take < amount)
