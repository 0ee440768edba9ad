"""A payment that succeeded after nobody awaited it any more: granted once, or refunded by an
explicit decision that is written to the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditLog, Payment, PaymentKind, PaymentStatus
from core.payments.audit import audit


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
    exists = select(AuditLog.id).where(AuditLog.target_id == payment.id, AuditLog.action == action)
    if (await session.execute(exists.limit(1))).first():
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
