"""The 80 % usage warning: when it is due, and that it was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dates import stamp
from core.ledger.accounts import insert_ignore
from core.ledger.errors import as_unit
from core.ledger.reads import _unit_usage
from core.ledger.results import WARNING_PERCENT
from core.ledger.statements import _GRANT_TOTALS
from core.models import (
    EntryKind,
    LedgerEntry,
    Subscription,
)
from core.models.base import utcnow
from core.plans import Unit


@dataclass(frozen=True)
class WarningNotice:
    user_id: str
    unit: str
    period_start: datetime
    percent: int

    @property
    def key(self) -> str:
        """Also the email workflow id: one warning per user, unit and period."""
        return f"quota-warning-{self.user_id}-{self.unit}-{stamp(self.period_start)}"


async def warning_due(
    session: AsyncSession,
    user_id: str,
    unit: Unit | str,
    now: datetime | None = None,
    *,
    warning_percent: int = WARNING_PERCENT,
) -> WarningNotice | None:
    """A notice when the unit is at or above the threshold and not yet warned this period."""
    now = now or utcnow()
    period = (
        await session.execute(
            select(Subscription.current_period_start).where(Subscription.user_id == user_id)
        )
    ).scalar_one_or_none()
    if period is None:
        return None
    state = await _unit_usage(session, user_id, as_unit(unit), now, warning_percent)
    if not state.warning:
        return None
    notice = WarningNotice(user_id=user_id, unit=str(unit), period_start=period, percent=state.percent)
    query = select(LedgerEntry.id).where(
        LedgerEntry.kind == EntryKind.warning.value, LedgerEntry.key == notice.key
    )
    if (await session.execute(query)).first() is not None:
        return None
    return notice


async def near_warning(
    session: AsyncSession,
    user_id: str,
    unit: Unit | str,
    now: datetime | None = None,
    *,
    warning_percent: int = WARNING_PERCENT,
) -> bool:
    """One cheap query ruling out the warning for most settles: what is granted but no longer
    remaining (used plus held) is an upper bound on what is used."""
    params = {"user_id": user_id, "unit": str(unit), "now": now or utcnow()}
    granted, remaining = (int(value) for value in (await session.execute(_GRANT_TOTALS, params)).one())
    return granted > 0 and (granted - remaining) * 100 >= warning_percent * granted


async def record_warning(session: AsyncSession, notice: WarningNotice, now: datetime | None = None) -> None:
    """Remember that this period's warning went out (idempotent)."""
    values = {
        "user_id": notice.user_id,
        "unit": notice.unit,
        "kind": EntryKind.warning.value,
        "amount": 0,
        "key": notice.key,
        "actor": "system",
        "reason": f"{notice.percent}%",
        "meta": {"percent": notice.percent},
        "created_at": now or utcnow(),
    }
    await session.execute(insert_ignore(session, LedgerEntry, values))
