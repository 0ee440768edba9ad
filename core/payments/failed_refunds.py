"""Refunds HyperPay rejected: a record support sees and retries (``failed_refunds``).

Each refund the system decides on (a late payment, a superseded renewal, an overlapped
period's unused part) that HyperPay answers with a final rejection gets one row, ``open``.
Support's retry runs ``RefundRetryWorkflow`` (one run per record at a time): it asks HyperPay
for a refund of the payment first, so a refund HyperPay did accept (a lost answer, a refund
made in its back office) is recorded, never sent twice; a success closes the row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.models import FailedRefund, Payment, PaymentStatus, RefundStatus

CAUSES = ("late", "superseded", "overlap")
FULL_REFUND_CAUSES = ("late", "superseded")  # the whole payment goes back: it ends `refunded`
RETRIED = "refund.retry"
CAUSE_LABELS = {  # msgids: why the refund was owed
    "late": "Paid after its checkout had expired",
    "superseded": "A renewal replaced by a purchase",
    "overlap": "The unused part of a period paid twice",
}


def cause_label(cause: str) -> str:
    return CAUSE_LABELS.get(cause, "Refund")


class RefundNotFound(NotFound):
    code = "refund_not_found"
    message = "This refund does not exist."


async def record_failed_refund(
    session: AsyncSession,
    payment: Payment,
    *,
    cause: str,
    cause_id: str,
    amount_fils: int,
    code: str,
    description: str,
) -> FailedRefund:
    """The record of a rejected refund (idempotent: a retried activity finds the same row)."""
    key = f"{cause}:{cause_id}:{payment.id}"
    found = (await session.execute(select(FailedRefund).where(FailedRefund.key == key))).scalar_one_or_none()
    if found is not None:
        return found
    row = FailedRefund(
        key=key,
        payment_id=payment.id,
        user_id=payment.user_id,
        cause=cause,
        cause_id=cause_id,
        amount_fils=amount_fils,
        result_code=code[:16],
        result_description=description[:500],
    )
    session.add(row)
    await session.flush()
    return row


async def get_failed_refund(session: AsyncSession, refund_id: str, *, lock: bool = False) -> FailedRefund:
    query = select(FailedRefund).where(FailedRefund.id == refund_id[:32])
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if row is None:
        raise RefundNotFound()
    return row


async def list_failed_refunds(session: AsyncSession, status: str | None = None) -> list[FailedRefund]:
    query = select(FailedRefund).order_by(FailedRefund.created_at.desc()).limit(200)
    if status is not None:
        query = query.where(FailedRefund.status == status)
    return list((await session.execute(query)).scalars())


def record_retry(
    row: FailedRefund, payment: Payment, *, ok: bool, code: str, description: str, refund_id: str
) -> None:
    """A retry's final answer: a success closes the record (and a full refund marks the
    payment ``refunded``); a rejection keeps it open with the new code."""
    row.attempts += 1
    row.result_code, row.result_description = code[:16], description[:500]
    if not ok:
        return
    row.status, row.provider_refund_id = RefundStatus.refunded.value, refund_id
    if row.cause in FULL_REFUND_CAUSES and payment.status == PaymentStatus.succeeded.value:
        payment.status = PaymentStatus.refunded.value
        payment.result_code = code
        payment.result_description = "refunded by support after HyperPay had rejected the refund"
