"""Two paid periods for the same time: a renewal settling while the person buys or switches a plan.

A renewal, a checkout and an upgrade each move money on their own (the shopper pays a checkout
at HyperPay while the SubscriptionWorkflow charges the stored card), so either can be granted
while the other is under way. The rule, decided when a payment is granted, under the user's
plan lock (the same lock ``set_plan`` takes, so two grants of one user never interleave):

* **the purchase stands**: a renewal whose period was already replaced when it settled (by a
  checkout, an upgrade or support) is not granted and is refunded in full (``superseded``);
* **nobody pays twice for one time**: a plan payment granted over a period that was opened
  after it was priced (a renewal or another plan payment its quote never saw) refunds that
  period's unused part — its plan's price × the time left, rounded down to 10 fils like an
  upgrade's credit — less the credit the purchase was already given, at most what that period
  cost (capped last: that period may itself have been bought with a credit for the same older
  period the purchase was credited for).

Both decisions are written to the audit log (``payment.superseded``, ``payment.overlap``) in the
granting transaction; the refund itself is sent afterwards (no network call in a transaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditLog, GrantSource, LedgerGrant, Payment, PaymentKind
from core.payments.audit import audit
from core.plans import get_plan
from core.proration import credit
from core.subscriptions import get_subscription

PLAN_KINDS = (PaymentKind.plan.value, PaymentKind.upgrade.value, PaymentKind.renewal.value)
SUPERSEDED = "payment.superseded"
OVERLAP = "payment.overlap"
REFUNDED = "payment.overlap_refunded"


@dataclass(frozen=True)
class Refund:
    """A refund decided for ``payment_id`` (``amount_fils``), because of ``cause_id``."""

    payment_id: str
    amount_fils: int
    cause_id: str


async def period_opener(session: AsyncSession, user_id: str) -> str | None:
    """The key that opened the user's current period (``payment:<id>`` for a paid one; a
    support change or a Free period has its own key), from the period's plan grants."""
    subscription = await get_subscription(session, user_id)
    if subscription is None:
        return None
    query = (
        select(LedgerGrant.key)
        .where(
            LedgerGrant.user_id == user_id,
            LedgerGrant.source == GrantSource.plan.value,
            LedgerGrant.starts_at == subscription.current_period_start,
        )
        .order_by(LedgerGrant.created_at.desc())
        .limit(1)
    )
    key = (await session.execute(query)).scalar_one_or_none()
    return key.rsplit(":", 1)[0] if key else None


def superseded(payment: Payment, renews: str, opener: str | None) -> bool:
    """A renewal charged for the period ``renews`` opened, which is no longer the current one."""
    return payment.kind == PaymentKind.renewal.value and bool(renews) and opener != renews


async def overlapped(
    session: AsyncSession, payment: Payment, opener: str | None, now: datetime
) -> Refund | None:
    """The refund owed when ``payment`` (a plan or upgrade) replaces a period its quote never saw."""
    if payment.kind == PaymentKind.renewal.value or not opener or not opener.startswith("payment:"):
        return None
    other = await session.get(Payment, opener.removeprefix("payment:"))
    if (
        other is None
        or other.id == payment.id
        or other.user_id != payment.user_id
        or other.kind not in PLAN_KINDS
        or other.fulfilled_at is None
        or other.fulfilled_at <= payment.created_at
        or not other.provider_payment_id
    ):
        return None
    subscription = await get_subscription(session, payment.user_id)
    assert subscription is not None
    start, end = subscription.current_period_start, subscription.current_period_end
    # the period's worth left, less the credit the purchase already had, is what it was charged
    # too much; the cap comes last: a period itself bought with a credit (an upgrade, a prorated
    # checkout) is worth more than it cost, and that credit was the same old period's
    unused = credit(get_plan(other.item_id).price_fils, start, end, now)
    given = max(0, get_plan(payment.item_id).price_fils - payment.amount_fils)
    amount = min(other.amount_fils, unused - given)
    return Refund(other.id, amount, payment.id) if amount > 0 else None


async def record_superseded(session: AsyncSession, payment: Payment, opener: str | None) -> None:
    details = {"user_id": payment.user_id, "replaced_by": opener or "", "amount_fils": payment.amount_fils}
    await _once(session, payment.id, SUPERSEDED, "renewal settled after its period was replaced", details)


async def record_overlap(session: AsyncSession, refund: Refund) -> None:
    details = {"refund_payment_id": refund.payment_id, "amount_fils": refund.amount_fils}
    await _once(session, refund.cause_id, OVERLAP, "granted over a period its price did not include", details)


async def pending_overlap(session: AsyncSession, payment_id: str) -> Refund | None:
    """The overlap refund decided when ``payment_id`` was granted and not yet sent."""
    decided = await _entry(session, payment_id, OVERLAP)
    if decided is None or await _entry(session, payment_id, REFUNDED) is not None:
        return None
    details = decided.details
    return Refund(str(details["refund_payment_id"]), int(details["amount_fils"]), payment_id)


async def record_overlap_refunded(session: AsyncSession, refund: Refund, code: str) -> None:
    details = {"refund_payment_id": refund.payment_id, "amount_fils": refund.amount_fils, "refund_code": code}
    await _once(session, refund.cause_id, REFUNDED, "overlap refunded", details)


async def _entry(session: AsyncSession, target_id: str, action: str) -> AuditLog | None:
    query = select(AuditLog).where(AuditLog.target_id == target_id, AuditLog.action == action).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def _once(
    session: AsyncSession, target_id: str, action: str, reason: str, details: dict[str, object]
) -> None:
    if await _entry(session, target_id, action) is not None:
        return
    await audit(
        session,
        actor_id="system",
        action=action,
        target_type="payment",
        target_id=target_id,
        reason=reason,
        details=dict(details),
    )
