"""Reads: what is available now, and the usage summary."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger.results import WARNING_PERCENT, UnitUsage, UsageSummary
from core.models import (
    LedgerGrant,
    LedgerHold,
    LedgerReservation,
    ReservationStatus,
    Subscription,
)
from core.models.base import utcnow
from core.plans import UNITS, Unit


async def available(
    session: AsyncSession, user_id: str, unit: Unit | str, now: datetime | None = None
) -> int:
    """What can be reserved right now (unexpired grants, minus what reservations hold)."""
    params = {"user_id": user_id, "unit": str(unit), "now": now or utcnow()}
    return int((await session.execute(_AVAILABLE, params)).scalar_one())


# Built once: every chat turn's quota check runs it (its SQL and cache key are reused).
_AVAILABLE = select(func.coalesce(func.sum(LedgerGrant.remaining), 0)).where(
    LedgerGrant.user_id == bindparam("user_id"),
    LedgerGrant.unit == bindparam("unit"),
    LedgerGrant.starts_at <= bindparam("now"),
    LedgerGrant.expires_at > bindparam("now"),
)


async def usage(
    session: AsyncSession,
    user_id: str,
    now: datetime | None = None,
    *,
    warning_percent: int = WARNING_PERCENT,
) -> UsageSummary:
    """The current period and, per unit, granted/used/reserved/remaining/percent/flags."""
    now = now or utcnow()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.user_id == user_id))
    ).scalar_one_or_none()
    units = {unit.value: await _unit_usage(session, user_id, unit, now, warning_percent) for unit in UNITS}
    if subscription is None:
        return UsageSummary(None, None, None, None, units)
    return UsageSummary(
        plan_id=subscription.plan_id,
        status=subscription.status,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        units=units,
    )


async def _unit_usage(
    session: AsyncSession, user_id: str, unit: Unit, now: datetime, warning_percent: int
) -> UnitUsage:
    active = (
        LedgerGrant.user_id == user_id,
        LedgerGrant.unit == unit.value,
        LedgerGrant.starts_at <= now,
        LedgerGrant.expires_at > now,
    )
    totals = select(
        func.coalesce(func.sum(LedgerGrant.amount), 0), func.coalesce(func.sum(LedgerGrant.remaining), 0)
    ).where(*active)
    granted, remaining = (int(value) for value in (await session.execute(totals)).one())
    held = (
        select(func.coalesce(func.sum(LedgerHold.amount), 0))
        .join(LedgerReservation, LedgerReservation.id == LedgerHold.reservation_id)
        .join(LedgerGrant, LedgerGrant.id == LedgerHold.grant_id)
        .where(LedgerReservation.status == ReservationStatus.reserved.value, *active)
    )
    reserved = int((await session.execute(held)).scalar_one())
    used = max(granted - remaining - reserved, 0)
    percent = used * 100 // granted if granted else 0
    return UnitUsage(
        unit=unit.value,
        granted=granted,
        used=used,
        reserved=reserved,
        remaining=remaining,
        percent=percent,
        warning=granted > 0 and used * 100 >= warning_percent * granted,
        exceeded=granted > 0 and used >= granted,
    )
