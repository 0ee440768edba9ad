"""Support console API (role support or admin): failed payments and retries, user lookup and
the audit log. Every action is written to the audit log (quota adjustments and plan changes
live in api/usage and are audited there too)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Query
from temporalio.common import WorkflowIDConflictPolicy

from api.auth.deps import SupportUser
from api.deps import LocaleDep, SessionDep, StateDep, TemporalDep
from api.payments.routes import IdempotencyKey, payment_out
from api.payments.schemas import (
    AdminPaymentOut,
    AdminUserOut,
    AuditOut,
    FailedRefundOut,
    RefundRetryOut,
    RetryIn,
    RetryOut,
)
from core import accounts, ledger, payments
from core.errors import NotFound
from core.i18n import format_fils, translate
from core.models import FailedRefund, PaymentKind, PaymentStatus, RefundStatus
from core.payments import PaymentUnavailable, RetryNotPossible
from core.subscriptions import get_subscription
from workflows import BACKGROUND
from workflows.payments_common import subscription_id
from workflows.refund import RefundRetryInput, RefundRetryWorkflow, refund_workflow_id
from workflows.subscription import RetryRequest, SubscriptionWorkflow

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/admin", tags=["support"])


@router.get("/payments", response_model=list[AdminPaymentOut])
async def list_payments(
    support: SupportUser, session: SessionDep, locale: LocaleDep, status: PaymentStatus | None = None
) -> list[AdminPaymentOut]:
    rows = await payments.list_payments(session, status=status.value if status else None)
    emails = await accounts.emails_of(session, {row.user_id for row in rows})
    return [
        AdminPaymentOut(
            **payment_out(row, locale).model_dump(),
            user_id=row.user_id,
            user_email=emails.get(row.user_id, ""),
        )
        for row in rows
    ]


@router.post("/payments/{payment_id}/retry", response_model=RetryOut)
async def retry_payment(
    payment_id: str,
    support: SupportUser,
    state: StateDep,
    temporal: TemporalDep,
    body: RetryIn | None = None,
    key: IdempotencyKey = None,
) -> RetryOut:
    """Charge a failed renewal again now, through the user's SubscriptionWorkflow. A repeated
    ``Idempotency-Key`` answers the first retry's outcome without charging again."""
    client_key = payments.idempotency_key(key)
    async with state.db.session() as session:
        payment = await payments.get_payment(session, payment_id[:32])
        for entry in await payments.audit_log(session, target_id=payment.id):
            if entry.action == "payment.retry" and entry.details.get("idempotency_key") == client_key:
                details = entry.details
                return RetryOut(
                    payment_id=payment.id,
                    status=str(details.get("status", "")),
                    result_code=str(details.get("result_code", "")),
                )
    if payment.kind != PaymentKind.renewal.value or payment.status != PaymentStatus.failed.value:
        raise RetryNotPossible()
    handle = temporal.get_workflow_handle(subscription_id(payment.user_id))
    try:
        outcome = await handle.execute_update(
            SubscriptionWorkflow.retry_payment, RetryRequest(actor_id=support.id, payment_id=payment.id)
        )
    except Exception as error:  # noqa: BLE001 - rejected by the validator or no workflow
        log.info("payments.retry_refused", payment_id=payment_id, error=str(error))
        raise RetryNotPossible() from None
    async with state.db.session() as session:
        await payments.audit(
            session,
            actor_id=support.id,
            action="payment.retry",
            target_type="payment",
            target_id=payment.id,
            reason=body.reason if body else "",
            details={
                "status": outcome.status,
                "result_code": outcome.result_code,
                "user_id": payment.user_id,
                "idempotency_key": client_key,
            },
        )
    return RetryOut(payment_id=outcome.payment_id, status=outcome.status, result_code=outcome.result_code)


@router.get("/users", response_model=AdminUserOut)
async def find_user(
    support: SupportUser, session: SessionDep, locale: LocaleDep, email: str = Query(min_length=3)
) -> AdminUserOut:
    user = await payments.user_by_email(session, email)
    if user is None:
        raise NotFound()
    subscription = await get_subscription(session, user.id)
    summary = await ledger.usage(session, user.id)
    usage = {
        unit: {"granted": u.granted, "used": u.used, "reserved": u.reserved, "remaining": u.remaining}
        for unit, u in summary.units.items()
    }
    await payments.audit(
        session, actor_id=support.id, action="user.lookup", target_type="user", target_id=user.id
    )
    return AdminUserOut(
        id=user.id,
        email=user.email,
        role=user.role,
        locale=user.locale,
        plan_id=subscription.plan_id if subscription else None,
        subscription_status=subscription.status if subscription else None,
        current_period_end=subscription.current_period_end if subscription else None,
        usage=usage,
        payments=[payment_out(p, locale) for p in await payments.history(session, user.id)],
    )


@router.get("/audit", response_model=list[AuditOut])
async def audit_log(support: SupportUser, session: SessionDep, target: str | None = None) -> list[AuditOut]:
    return [
        AuditOut(
            id=row.id,
            actor_id=row.actor_id,
            action=row.action,
            target_type=row.target_type,
            target_id=row.target_id,
            reason=row.reason,
            details=row.details,
            created_at=row.created_at,
        )
        for row in await payments.audit_log(session, target_id=target)
    ]


def failed_refund_out(row: FailedRefund, email: str, locale: str) -> FailedRefundOut:
    return FailedRefundOut(
        id=row.id,
        payment_id=row.payment_id,
        user_id=row.user_id,
        user_email=email,
        cause=row.cause,
        cause_label=translate(payments.cause_label(row.cause), locale),
        amount=row.amount_fils,
        amount_display=format_fils(row.amount_fils, locale),
        status=row.status,
        result_code=row.result_code,
        result_description=row.result_description,
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("/refunds", response_model=list[FailedRefundOut])
async def list_refunds(
    support: SupportUser, session: SessionDep, locale: LocaleDep, status: RefundStatus | None = None
) -> list[FailedRefundOut]:
    """Refunds HyperPay rejected (``status=open``: money still owed to the person)."""
    rows = await payments.list_failed_refunds(session, status=status.value if status else None)
    emails = await accounts.emails_of(session, {row.user_id for row in rows})
    return [failed_refund_out(row, emails.get(row.user_id, ""), locale) for row in rows]


@router.post("/refunds/{refund_id}/retry", response_model=RefundRetryOut)
async def retry_refund(
    refund_id: str,
    support: SupportUser,
    state: StateDep,
    temporal: TemporalDep,
    body: RetryIn | None = None,
    key: IdempotencyKey = None,
) -> RefundRetryOut:
    """Send a rejected refund again (``RefundRetryWorkflow``). HyperPay is asked first, so a
    refund it did accept is recorded rather than sent twice; a click while a retry runs joins
    it; a repeated ``Idempotency-Key`` answers its first outcome; a closed record answers
    ``refunded`` without calling HyperPay. Audited as ``refund.retry``."""
    client_key = payments.idempotency_key(key)
    async with state.db.session() as session:
        row = await payments.get_failed_refund(session, refund_id)
        for entry in await payments.audit_log(session, target_id=row.payment_id):
            details = entry.details
            if (
                entry.action == payments.REFUND_RETRIED
                and details.get("refund_id") == row.id
                and details.get("idempotency_key") == client_key
            ):
                return RefundRetryOut(
                    refund_id=row.id,
                    status=str(details.get("status", "")),
                    result_code=str(details.get("result_code", "")),
                )
        if row.status == RefundStatus.refunded.value:
            return RefundRetryOut(refund_id=row.id, status=row.status, result_code=row.result_code)
    request = RefundRetryInput(
        refund_id=row.id,
        actor_id=support.id,
        idempotency_key=client_key,
        reason=body.reason if body else "",
        retry_initial_s=state.settings.payments_retry_initial_s,
    )
    try:
        outcome = await temporal.execute_workflow(
            RefundRetryWorkflow.run,
            request,
            id=refund_workflow_id(row.id),
            task_queue=state.settings.task_queue(BACKGROUND),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"retry refund of payment {row.payment_id}",
        )
    except Exception as error:  # noqa: BLE001 - HyperPay unreachable past the retries
        log.warning("payments.refund_retry_failed", refund_id=row.id, error=str(error))
        raise PaymentUnavailable() from None
    return RefundRetryOut(refund_id=outcome.refund_id, status=outcome.status, result_code=outcome.result_code)
