"""Grants: a plan period's quotas, add-ons, and their expiry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dates import add_months
from core.ledger.accounts import lock_account
from core.ledger.entries import _entry
from core.ledger.errors import KeyInUse
from core.ledger.results import ADDON_VALIDITY_MONTHS
from core.models import (
    EntryKind,
    GrantSource,
    LedgerGrant,
)
from core.models.base import utcnow
from core.plans import UNITS, Unit, get_addon, get_plan


async def _grant(
    session: AsyncSession,
    *,
    user_id: str,
    unit: Unit,
    amount: int,
    source: GrantSource,
    ref: str | None,
    key: str,
    starts_at: datetime,
    expires_at: datetime,
    now: datetime,
    actor: str = "system",
    reason: str = "",
) -> LedgerGrant:
    """Create one grant unless its key exists (caller holds the account lock)."""
    query = select(LedgerGrant).where(LedgerGrant.key == key).execution_options(populate_existing=True)
    existing = (await session.execute(query)).scalar_one_or_none()
    if existing is not None:
        if existing.user_id != user_id:
            raise KeyInUse()
        return existing
    grant = LedgerGrant(
        key=key,
        user_id=user_id,
        unit=unit.value,
        source=source.value,
        ref=ref,
        amount=amount,
        remaining=amount,
        starts_at=starts_at,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(grant)
    await _entry(
        session,
        user_id=user_id,
        unit=unit.value,
        kind=EntryKind.grant,
        amount=amount,
        key=key,
        now=now,
        actor=actor,
        reason=reason,
        source=source.value,
        ref=ref,
        expires_at=expires_at.isoformat(),
    )
    await session.flush()
    return grant


async def grant_period(
    session: AsyncSession,
    user_id: str,
    plan_id: str,
    period_start: datetime,
    period_end: datetime,
    key: str,
    *,
    actor: str = "system",
    reason: str = "",
    now: datetime | None = None,
) -> list[LedgerGrant]:
    """The plan's quotas for one period (grant keys ``<key>:<unit>``; expire at period end)."""
    plan = get_plan(plan_id)
    now = now or utcnow()
    grants: list[LedgerGrant] = []
    for unit in UNITS:
        if plan.quota(unit) <= 0:
            continue
        await lock_account(session, user_id, unit)
        grants.append(
            await _grant(
                session,
                user_id=user_id,
                unit=unit,
                amount=plan.quota(unit),
                source=GrantSource.plan,
                ref=plan.id,
                key=f"{key}:{unit.value}",
                starts_at=period_start,
                expires_at=period_end,
                now=now,
                actor=actor,
                reason=reason,
            )
        )
    return grants


async def grant_addon(
    session: AsyncSession,
    user_id: str,
    addon_id: str,
    key: str,
    now: datetime | None = None,
    *,
    actor: str = "system",
    reason: str = "",
) -> LedgerGrant:
    """An add-on's amount, valid for 12 months from ``now``."""
    addon = get_addon(addon_id)
    now = now or utcnow()
    await lock_account(session, user_id, addon.unit)
    return await _grant(
        session,
        user_id=user_id,
        unit=addon.unit,
        amount=addon.amount,
        source=GrantSource.addon,
        ref=addon.id,
        key=key,
        starts_at=now,
        expires_at=add_months(now, ADDON_VALIDITY_MONTHS),
        now=now,
        actor=actor,
        reason=reason,
    )


async def expire_plan_grants(
    session: AsyncSession,
    user_id: str,
    now: datetime,
    *,
    at: datetime | None = None,
    actor: str = "system",
    reason: str = "",
) -> int:
    """End the user's plan grants (a plan change): now, or at ``at`` when that is later (a
    renewal paid before the period ends keeps the current grants until then; the sweeper
    records their expiry). Returns how many grants were ended."""
    at = max(at or now, now)
    count = 0
    for unit in UNITS:
        await lock_account(session, user_id, unit)
        query = (
            select(LedgerGrant)
            .where(
                LedgerGrant.user_id == user_id,
                LedgerGrant.unit == unit.value,
                LedgerGrant.source == GrantSource.plan.value,
                LedgerGrant.expires_at > at,
            )
            .execution_options(populate_existing=True)
        )
        for grant in list((await session.execute(query)).scalars()):
            if at > now:
                grant.expires_at = at
            else:
                await _expire(session, grant, now, actor=actor, reason=reason)
            count += 1
    await session.flush()
    return count


async def _expire(
    session: AsyncSession, grant: LedgerGrant, now: datetime, *, actor: str, reason: str
) -> None:
    await _entry(
        session,
        user_id=grant.user_id,
        unit=grant.unit,
        kind=EntryKind.expire,
        amount=grant.remaining,
        key=f"expire:{grant.id}",
        now=now,
        actor=actor,
        reason=reason,
        grant_key=grant.key,
    )
    grant.remaining = 0
    grant.expires_at = min(grant.expires_at, now)


async def expire_due_grants(session: AsyncSession, now: datetime | None = None, *, limit: int = 500) -> int:
    """Record an ``expire`` entry for grants that ran out with something left (sweeper)."""
    now = now or utcnow()
    unit_order = case(
        {unit.value: index for index, unit in enumerate(UNITS)}, value=LedgerGrant.unit, else_=9
    )
    query = (
        select(LedgerGrant.user_id, LedgerGrant.unit)
        .where(LedgerGrant.expires_at <= now, LedgerGrant.remaining > 0)
        .group_by(LedgerGrant.user_id, LedgerGrant.unit)
        .order_by(LedgerGrant.user_id, unit_order)  # the lock order: no deadlock with set_plan
        .limit(limit)
    )
    count = 0
    for user_id, unit in (await session.execute(query)).all():
        await lock_account(session, user_id, unit)
        due = (
            select(LedgerGrant)
            .where(
                LedgerGrant.user_id == user_id,
                LedgerGrant.unit == unit,
                LedgerGrant.expires_at <= now,
                LedgerGrant.remaining > 0,
            )
            .execution_options(populate_existing=True)
        )
        for grant in list((await session.execute(due)).scalars()):
            await _expire(session, grant, now, actor="sweeper", reason="expired")
            count += 1
    await session.flush()
    return count
