"""Refunds: sent once (HyperPay is asked for an earlier refund of the payment first), and
support's retry of a refund HyperPay rejected (``core.payments.failed_refunds``)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import payments
from core.db import Database
from core.models import RefundStatus
from providers.payments.hyperpay import HyperPayClient, HyperPayUnavailable, PaymentResult, ResultClass

log = structlog.get_logger(__name__)


@dataclass
class RefundRetryInput:
    refund_id: str
    actor_id: str
    idempotency_key: str
    reason: str = ""
    retry_initial_s: float = 5.0  # HyperPay unavailable: the activity's retries start here


@dataclass
class RefundRetryResult:
    refund_id: str
    status: str  # open (HyperPay rejected it again) | refunded
    result_code: str = ""


def transient(error: Exception) -> ApplicationError:
    return ApplicationError(str(error), type="HyperPayUnavailable")


async def refund_once(
    hyperpay: HyperPayClient, provider_id: str, reference: str, amount: int, brand: str
) -> PaymentResult:
    """Refund ``provider_id`` unless HyperPay already has a successful refund of it under the
    payment's reference (a retry after an answer that was lost, a refund made in HyperPay's
    back office). Transport errors and ``temporary`` codes are retryable activity errors."""
    try:
        found = await hyperpay.query(reference, brand) if reference else []
        done = [
            p for p in found if p.payment_type == "RF" and p.ok and p.raw.get("referencedId") == provider_id
        ]
        if done:
            return done[-1]
        result = await hyperpay.refund(provider_id, amount, brand)
    except HyperPayUnavailable as error:
        raise transient(error) from error
    if result.result_class is ResultClass.temporary:
        raise transient(HyperPayUnavailable(f"{result.code} {result.description}"))
    return result


class RefundActivities:
    def __init__(self, db: Database, hyperpay: HyperPayClient) -> None:
        self.db = db
        self.hyperpay = hyperpay

    @activity.defn(name="payments.retry_refund")
    async def retry_refund(self, data: RefundRetryInput) -> RefundRetryResult:
        """Support's retry of a rejected refund: read, ask HyperPay (query, then refund only if
        it has none), record and audit in a new transaction. Idempotent: a closed record
        answers ``refunded`` without calling HyperPay."""
        async with self.db.session() as session:
            row = await payments.get_failed_refund(session, data.refund_id)
            if row.status == RefundStatus.refunded.value:
                return RefundRetryResult(row.id, row.status, row.result_code)
            payment = await payments.get_payment(session, row.payment_id)
            target = await payments.refund_target(session, payment)
            amount, brand = row.amount_fils, payment.brand
        result = await refund_once(self.hyperpay, *target, amount, brand)
        async with self.db.session() as session:
            row = await payments.get_failed_refund(session, data.refund_id, lock=True)
            payment = await payments.lock_payment(session, row.payment_id)
            if row.status != RefundStatus.refunded.value:
                payments.record_retry(
                    row,
                    payment,
                    ok=result.ok,
                    code=result.code,
                    description=result.description,
                    refund_id=result.id,
                )
            await payments.audit(
                session,
                actor_id=data.actor_id,
                action=payments.REFUND_RETRIED,
                target_type="payment",
                target_id=row.payment_id,
                reason=data.reason,
                details={
                    "refund_id": row.id,
                    "status": row.status,
                    "result_code": result.code,
                    "amount_fils": row.amount_fils,
                    "user_id": row.user_id,
                    "idempotency_key": data.idempotency_key,
                },
            )
            answer = RefundRetryResult(row.id, row.status, result.code)
        log.info(
            "payments.refund_retried",
            refund_id=answer.refund_id,
            status=answer.status,
            code=answer.result_code,
        )
        return answer
