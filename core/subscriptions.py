"""Subscriptions: each user's plan and current period, and the period grants that go with it.

A new user is on Free. A Free period that ended renews itself (on access, and by the sweeper);
so does a cancelled plan, which falls back to Free. A paid period that ended without renewal is
left for payments to renew (``set_plan`` with the payment's key) or to mark past due.
Every function is idempotent: period grants are keyed by user and period start, plan changes
by the caller's key (a payment id, a support action id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from core.dates import add_months, stamp
from core.ledger import expire_plan_grants, grant_period, insert_ignore, lock_account
from core.models import LedgerAccount, LedgerGrant, Subscription, SubscriptionStatus
from core.models.base import new_id, utcnow
from core.plans import FREE, UNITS, get_plan

__all__ = [
    "Subscription",
    "due_for_renewal",
    "ensure_current_period",
    "ensure_subscription",
    "get_subscription",
    "renew_due",
    "set_plan",
]


def period_key(user_id: str, period_start: datetime) -> str:
    return f"period:{user_id}:{stamp(period_start)}"


async def get_subscription(session: AsyncSession, user_id: str) -> Subscription | None:
    query = (
        select(Subscription).where(Subscription.user_id == user_id).execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _create(session: AsyncSession, user_id: str, plan_id: str, start: datetime) -> Subscription:
    row = {
        "id": new_id(),
        "user_id": user_id,
        "plan_id": plan_id,
        "status": SubscriptionStatus.active.value,
        "current_period_start": start,
        "current_period_end": add_months(start, 1),
        "cancel_at_period_end": False,
        "created_at": start,
        "updated_at": start,
    }
    await session.execute(insert_ignore(session, Subscription, row))
    found = await get_subscription(session, user_id)
    assert found is not None
    return found


async def ensure_current_period(session: AsyncSession, user_id: str, now: datetime | None = None) -> None:
    """``ensure_subscription`` for callers that only need the period in place (every reserve):
    the common case is one prebuilt Core read and no ORM object."""
    now = now or utcnow()
    period = (await session.execute(_PERIOD, {"user_id": user_id})).first()
    if period is None or _due(period, now):
        await ensure_subscription(session, user_id, now)


async def ensure_subscription(
    session: AsyncSession, user_id: str, now: datetime | None = None
) -> Subscription:
    """The user's subscription: created on Free for a new user; a due Free period renewed."""
    now = now or utcnow()
    subscription = await get_subscription(session, user_id)
    if subscription is not None and not _due(subscription, now):
        return subscription  # the common case: no lock, one query
    await lock_account(session, user_id, UNITS[0])  # same order as set_plan: no deadlock
    subscription = await get_subscription(session, user_id)
    if subscription is None:
        subscription = await _create(session, user_id, FREE, now)
    elif _due(subscription, now):
        subscription = await _roll_over(session, subscription, now)
    else:
        return subscription
    await grant_period(
        session,
        user_id,
        subscription.plan_id,
        subscription.current_period_start,
        subscription.current_period_end,
        period_key(user_id, subscription.current_period_start),
        now=now,
    )
    return subscription


class _Period(Protocol):
    """What decides whether a period renews as Free: a ``Subscription`` or a row of _PERIOD."""

    plan_id: str
    status: str
    cancel_at_period_end: bool
    current_period_end: datetime


def _due(subscription: _Period, now: datetime) -> bool:
    return now >= subscription.current_period_end and _renews_as_free(subscription)


def _renews_as_free(subscription: _Period) -> bool:
    return (
        subscription.plan_id == FREE
        or subscription.cancel_at_period_end
        or subscription.status == SubscriptionStatus.cancelled.value
    )


async def _roll_over(session: AsyncSession, subscription: Subscription, now: datetime) -> Subscription:
    """Open the Free period containing ``now`` (months skipped while away are not granted)."""
    anchor, months = subscription.current_period_start, 1
    while add_months(anchor, months + 1) <= now:
        months += 1
    start, end = add_months(anchor, months), add_months(anchor, months + 1)
    if subscription.plan_id != FREE:
        await expire_plan_grants(session, subscription.user_id, now, reason="plan ended")
    change = (
        update(Subscription)
        .where(
            Subscription.id == subscription.id,
            Subscription.current_period_end == subscription.current_period_end,
        )
        .values(
            plan_id=FREE,
            status=SubscriptionStatus.active.value,
            cancel_at_period_end=False,
            current_period_start=start,
            current_period_end=end,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    cast(CursorResult[Any], await session.execute(change))
    renewed = await get_subscription(session, subscription.user_id)
    assert renewed is not None
    return renewed


async def set_plan(
    session: AsyncSession,
    user_id: str,
    plan_id: str,
    now: datetime | None = None,
    key: str = "",
    *,
    actor: str = "system",
    reason: str = "",
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> Subscription:
    """Move the user to ``plan_id`` with a new period from ``period_start`` (default now) to
    ``period_end`` (default a calendar month later; renewals pass the anchored end):
    the previous period's plan grants expire, the new plan's are granted. Idempotent by key."""
    plan = get_plan(plan_id)
    now = now or utcnow()
    key = key or f"set-plan:{user_id}:{plan.id}:{stamp(now)}"
    await lock_account(session, user_id, UNITS[0])  # one plan change per user at a time
    subscription = await get_subscription(session, user_id)
    if subscription is not None and await _applied(session, key, user_id):
        return subscription
    start = period_start or now
    if subscription is None:
        subscription = await _create(session, user_id, plan.id, start)
    await expire_plan_grants(
        session, user_id, now, at=start, actor=actor, reason=reason or f"plan changed to {plan.id}"
    )
    subscription.plan_id = plan.id
    subscription.status = SubscriptionStatus.active.value
    subscription.cancel_at_period_end = False
    subscription.current_period_start = start
    subscription.current_period_end = (
        period_end if period_end and period_end > start else add_months(start, 1)
    )
    subscription.updated_at = now
    await session.flush()
    await grant_period(
        session,
        user_id,
        plan.id,
        start,
        subscription.current_period_end,
        key,
        actor=actor,
        reason=reason or f"plan {plan.id}",
        now=now,
    )
    return subscription


async def plan_sequence(session: AsyncSession, user_id: str) -> int:
    """The user's plan-lock counter: every change made under ``set_plan``'s lock raises it, so a
    period granted (or read) later always reads a higher one. It orders hand-overs of periods
    to the SubscriptionWorkflow, which ignores one older than the period it has."""
    query = select(LedgerAccount.version).where(
        LedgerAccount.user_id == user_id, LedgerAccount.unit == str(UNITS[0])
    )
    return (await session.execute(query)).scalar_one_or_none() or 0


async def _applied(session: AsyncSession, key: str, user_id: str) -> bool:
    keys = [f"{key}:{unit.value}" for unit in UNITS]
    query = select(LedgerGrant.id).where(LedgerGrant.key.in_(keys), LedgerGrant.user_id == user_id).limit(1)
    return (await session.execute(query)).first() is not None


async def due_for_renewal(
    session: AsyncSession, now: datetime | None = None, *, limit: int = 200
) -> list[str]:
    """Users whose Free (or cancelled) period has ended."""
    now = now or utcnow()
    query = (
        select(Subscription.user_id)
        .where(
            Subscription.current_period_end <= now,
            or_(
                Subscription.plan_id == FREE,
                Subscription.cancel_at_period_end.is_(True),
                Subscription.status == SubscriptionStatus.cancelled.value,
            ),
        )
        .order_by(Subscription.current_period_end)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def renew_due(session: AsyncSession, now: datetime | None = None, *, limit: int = 200) -> int:
    """Renew due Free (and cancelled) subscriptions in this transaction; returns how many."""
    now = now or utcnow()
    users = await due_for_renewal(session, now, limit=limit)
    for user_id in users:
        await ensure_subscription(session, user_id, now)
    return len(users)


_subscriptions = cast(Table, Subscription.__table__)
_PERIOD = select(
    _subscriptions.c.plan_id,
    _subscriptions.c.status,
    _subscriptions.c.cancel_at_period_end,
    _subscriptions.c.current_period_end,
).where(_subscriptions.c.user_id == bindparam("user_id"))
