"""adjust: support's correction, with a reason and an actor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dates import add_months
from core.ledger.accounts import _active_grants, _consume, lock_account
from core.ledger.entries import _entry
from core.ledger.errors import AdjustTooLarge, InvalidAmount, KeyInUse, ReasonRequired, as_unit
from core.ledger.grants import _grant
from core.ledger.results import ADJUST_VALIDITY_MONTHS
from core.models import (
    EntryKind,
    GrantSource,
    LedgerEntry,
)
from core.models.base import utcnow
from core.plans import Unit


async def adjust(
    session: AsyncSession,
    *,
    user_id: str,
    unit: Unit | str,
    delta: int,
    actor_id: str,
    reason: str,
    key: str,
    now: datetime | None = None,
    expires_at: datetime | None = None,
) -> int:
    """Support correction: +delta is a grant (12 months unless ``expires_at``); -delta takes
    from what is available (refused if more than that). Returns the applied delta."""
    unit = as_unit(unit)
    now = now or utcnow()
    if delta == 0:
        raise InvalidAmount()
    if not reason.strip():
        raise ReasonRequired()
    await lock_account(session, user_id, unit)
    query = select(LedgerEntry.amount, LedgerEntry.user_id).where(
        LedgerEntry.kind == EntryKind.adjust.value, LedgerEntry.key == key
    )
    done = (await session.execute(query)).first()
    if done is not None:
        if done.user_id != user_id:  # another user's operation: refused, never returned
            raise KeyInUse()
        return int(done.amount)
    if delta > 0:
        await _grant(
            session,
            user_id=user_id,
            unit=unit,
            amount=delta,
            source=GrantSource.adjust,
            ref=None,
            key=key,
            starts_at=now,
            expires_at=expires_at or add_months(now, ADJUST_VALIDITY_MONTHS),
            now=now,
            actor=actor_id,
            reason=reason,
        )
    else:
        grants = await _active_grants(session, user_id, unit.value, now)
        have = sum(grant.remaining for grant in grants)
        if -delta > have:
            raise AdjustTooLarge(available=have)
        await _consume(session, grants, -delta)
    await _entry(
        session,
        user_id=user_id,
        unit=unit.value,
        kind=EntryKind.adjust,
        amount=delta,
        key=key,
        now=now,
        actor=actor_id,
        reason=reason,
    )
    await session.flush()
    return delta
