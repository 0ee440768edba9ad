"""The paid period a ``SubscriptionWorkflow`` renews: its card, dunning state, cancellation,
the move to Free when it ends, and the price of an upgrade with credit for the unused part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Payment, PaymentKind, PaymentStatus
from core.models.base import utcnow
from core.payments.errors import NoSubscription
from core.payments.overlap import period_opener
from core.plans import FREE
from core.proration import Quote, quote
from core.subscriptions import Subscription, get_subscription, plan_sequence, set_plan


async def upgrade_quote(
    session: AsyncSession, user_id: str, plan_id: str, now: datetime | None = None
) -> Quote:
    """The price of ``plan_id`` for this user now, with the credit for an unused paid period."""
    subscription = await get_subscription(session, user_id)
    if subscription is None:
        return quote(FREE, utcnow(), utcnow(), plan_id, utcnow())
    start, end = subscription.current_period_start, subscription.current_period_end
    return quote(subscription.plan_id, start, end, plan_id, now or utcnow())


@dataclass(frozen=True)
class PaidPeriod:
    """A user's current period as the SubscriptionWorkflow needs it (card from the last plan
    payment; none for a plan set by support, which then ends at period end)."""

    user_id: str
    plan_id: str
    current_period_start: datetime
    current_period_end: datetime
    registration_id: str | None = None
    initial_transaction_id: str | None = None
    cancel_at_period_end: bool = False
    opened_by: str = ""  # the key that opened the current period (see core.payments.overlap)
    sequence: int = 0  # the plan-lock counter read before the period (orders hand-overs)


async def paid_period(session: AsyncSession, user_id: str) -> PaidPeriod | None:
    sequence = await plan_sequence(session, user_id)  # first: the period read is no older
    subscription = await get_subscription(session, user_id)
    if subscription is None:
        return None
    # the stored card's own first payment: a renewal (MIT) names the initial transaction of the
    # same registration, never another card's
    same_card = (
        Payment.registration_id == subscription.registration_id
        if subscription.registration_id
        else Payment.registration_id.is_not(None)
    )
    card = (
        await session.execute(
            select(Payment.registration_id, Payment.initial_transaction_id)
            .where(
                Payment.user_id == user_id,
                Payment.kind == PaymentKind.plan.value,
                Payment.status == PaymentStatus.succeeded.value,
                same_card,
            )
            .order_by(Payment.created_at.desc())
            .limit(1)
        )
    ).first()
    registration = subscription.registration_id or (card.registration_id if card else None)
    return PaidPeriod(
        user_id=user_id,
        plan_id=subscription.plan_id,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        registration_id=registration,
        initial_transaction_id=card.initial_transaction_id if card and registration else None,
        cancel_at_period_end=subscription.cancel_at_period_end,
        opened_by=await period_opener(session, user_id) or "",
        sequence=sequence,
    )


async def paid_periods(
    session: AsyncSession, now: datetime | None = None, *, limit: int = 1000
) -> list[PaidPeriod]:
    """Every paid period still running (for the missing-workflow repair)."""
    now = now or utcnow()
    query = (
        select(Subscription.user_id)
        .where(Subscription.plan_id != FREE, Subscription.current_period_end > now)
        .limit(limit)
    )
    found = []
    for user_id in (await session.execute(query)).scalars():
        period = await paid_period(session, user_id)
        if period is not None:
            found.append(period)
    return found


async def end_paid_plan(
    session: AsyncSession, user_id: str, key: str, now: datetime | None = None
) -> Subscription:
    """Move the user to Free (final renewal failure or cancellation at period end)."""
    subscription = await set_plan(
        session, user_id, FREE, now, key, actor="payments", reason="paid plan ended"
    )
    subscription.registration_id = None
    await session.flush()
    return subscription


async def set_past_due(session: AsyncSession, user_id: str, past_due: bool) -> None:
    subscription = await get_subscription(session, user_id)
    if subscription is not None:
        subscription.status = "past_due" if past_due else "active"
        await session.flush()


async def set_cancel_at_period_end(session: AsyncSession, user_id: str, cancel: bool) -> Subscription:
    subscription = await get_subscription(session, user_id)
    if subscription is None or subscription.plan_id == FREE:
        raise NoSubscription()
    subscription.cancel_at_period_end = cancel
    await session.flush()
    return subscription
