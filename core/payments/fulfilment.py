"""Granting what a succeeded payment bought, once: a plan period or an add-on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger import grant_addon, lock_account
from core.models import Payment, PaymentKind, PaymentStatus
from core.models.base import utcnow
from core.payments import overlap
from core.payments.checkout import lock_payment
from core.payments.errors import RetryNotPossible
from core.payments.overlap import Refund
from core.plans import UNITS
from core.subscriptions import Subscription, plan_sequence, set_plan


@dataclass(frozen=True)
class Fulfilled:
    payment: Payment
    subscription: Subscription | None
    newly: bool
    superseded: bool = False  # a renewal whose period was replaced: not granted, to be refunded
    refund: Refund | None = None  # the overlapped period's unused part, to be refunded
    # plans: the plan-lock counter when this payment's period was (found) current, ordering
    # hand-overs to the SubscriptionWorkflow; STALE when a later change has replaced it
    sequence: int = 0


STALE = -1


async def fulfil(
    session: AsyncSession,
    payment_id: str,
    now: datetime | None = None,
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    renews: str = "",
) -> Fulfilled:
    """Grant what a succeeded payment bought, once: a plan period (``set_plan``) or an add-on.
    The ledger keys are ``payment:<id>``, so even a concurrent second call grants nothing.

    ``renews`` (renewals): the key that opened the period this renewal extends; when another
    payment has replaced that period meanwhile, the renewal is superseded (see ``overlap``)."""
    now = now or utcnow()
    payment = await lock_payment(session, payment_id)
    if payment.kind == PaymentKind.renewal.value and payment.status == PaymentStatus.refunded.value:
        return Fulfilled(payment, None, False, superseded=True)  # superseded and refunded already
    if payment.status != PaymentStatus.succeeded.value:
        raise RetryNotPossible()
    key = f"payment:{payment.id}"
    subscription: Subscription | None = None
    newly = payment.fulfilled_at is None
    refund: Refund | None = None
    if newly and payment.kind != PaymentKind.addon.value:
        await lock_account(session, payment.user_id, UNITS[0])  # set_plan's lock, taken first
        opener = await overlap.period_opener(session, payment.user_id)
        if overlap.superseded(payment, renews, opener):
            await overlap.record_superseded(session, payment, opener)
            return Fulfilled(payment, None, False, superseded=True)
        refund = await overlap.overlapped(session, payment, opener, now)
        if refund is not None:
            await overlap.record_overlap(session, refund)
    if payment.kind == PaymentKind.addon.value:
        await grant_addon(
            session, payment.user_id, payment.item_id, key, now, reason=f"add-on {payment.item_id}"
        )
    else:
        subscription = await set_plan(
            session,
            payment.user_id,
            payment.item_id,
            now,
            key,
            actor="payments",
            reason=f"{payment.kind} payment {payment.id}",
            period_start=period_start,
            period_end=period_end,
        )
        if payment.registration_id and payment.kind == PaymentKind.plan.value:
            # a checkout stores the card it was paid with; a renewal or an upgrade is charged on
            # the stored card and never puts an older one back (an upgrade racing a purchase)
            subscription.registration_id = payment.registration_id
    if newly:
        payment.fulfilled_at = now
    await session.flush()
    sequence = 0 if subscription is None else await _sequence(session, payment.user_id, key)
    return Fulfilled(payment, subscription, newly, refund=refund, sequence=sequence)


async def _sequence(session: AsyncSession, user_id: str, key: str) -> int:
    """Read under the plan lock: a payment granted again (a retry, a late grant) whose period
    another change has replaced meanwhile is STALE, and must not be handed over."""
    if await overlap.period_opener(session, user_id) != key:
        return STALE
    return await plan_sequence(session, user_id)
