"""A payment that succeeded after nobody awaited it any more: granted once, or refunded by an
explicit decision that is written to the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger import lock_account
from core.models import AuditLog, Payment, PaymentKind, PaymentStatus
from core.payments.audit import audit
from core.payments.checkout import lock_payment
from core.payments.fulfilment import fulfil
from core.plans import UNITS


async def decide_late(session: AsyncSession, payment_id: str, now: datetime) -> str:
    """Decide a late payment (``late_payment_decision``) and make a ``grant`` in the same
    transaction, under the user's plan lock (``set_plan``'s). A plan bought meanwhile is then
    either seen here (``refund``) or granted after this one, when it refunds this one's unused
    part (``overlap``); deciding first and granting later let it be granted in between and
    then replaced by this older payment. ``none``: not succeeded, or granted by its own run."""
    payment = await lock_payment(session, payment_id)
    if payment.status != PaymentStatus.succeeded.value:
        return "none"
    if payment.fulfilled_at is not None:  # granted here before (a retry), or by its own run
        return "grant" if await _late_entry(session, payment.id, "grant") else "none"
    await lock_account(session, payment.user_id, UNITS[0])  # taken before deciding
    decision = await late_payment_decision(session, payment)
    if decision == "grant":
        await fulfil(session, payment.id, now)
        await audit_late(session, payment, decision)
    return decision


async def late_payment_decision(session: AsyncSession, payment: Payment) -> str:
    """What to do with a payment that succeeded after it stopped being awaited: an add-on is
    granted; a plan is granted unless a plan payment made after it was already granted (then
    granting it too would charge one month twice), in which case it is refunded."""
    if payment.kind == PaymentKind.addon.value:
        return "grant"
    later = select(Payment.id).where(
        Payment.user_id == payment.user_id,
        Payment.id != payment.id,
        Payment.kind.in_((PaymentKind.plan.value, PaymentKind.upgrade.value)),
        Payment.fulfilled_at.is_not(None),
        Payment.created_at > payment.created_at,
    )
    return "refund" if (await session.execute(later.limit(1))).first() else "grant"


async def mark_refunded(
    session: AsyncSession,
    payment: Payment,
    code: str,
    ok: bool,
    description: str = "refunded: paid after the checkout was no longer awaited",
) -> None:
    """Record a refund of a payment that was never granted (succeeded → refunded)."""
    if ok:
        payment.status = PaymentStatus.refunded.value
        payment.result_code = code
        payment.result_description = description
    await session.flush()


async def audit_late(session: AsyncSession, payment: Payment, decision: str, refund_code: str = "") -> None:
    """The audit entry for a late payment's reconciliation (idempotent per payment)."""
    action = f"payment.late_{decision}"
    if await _late_entry(session, payment.id, decision):
        return
    details = {"user_id": payment.user_id, "item": f"{payment.kind}:{payment.item_id}"}
    if refund_code:
        details["refund_code"] = refund_code
    await audit(
        session,
        actor_id="system",
        action=action,
        target_type="payment",
        target_id=payment.id,
        reason="succeeded after the checkout was no longer awaited",
        details=details,
    )


async def _late_entry(session: AsyncSession, payment_id: str, decision: str) -> bool:
    action = f"payment.late_{decision}"
    exists = select(AuditLog.id).where(AuditLog.target_id == payment_id, AuditLog.action == action)
    return (await session.execute(exists.limit(1))).first() is not None
