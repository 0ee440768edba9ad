"""Support console API (role support or admin): failed payments and retries, user lookup and
the audit log. Every action is written to the audit log (quota adjustments and plan changes
live in api/usage and are audited there too)."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Query

from api.auth.deps import SupportUser
from api.deps import LocaleDep, SessionDep, StateDep, TemporalDep
from api.payments.routes import IdempotencyKey, payment_out
from api.payments.schemas import (
    AdminPaymentOut,
    AdminUserOut,
    AuditOut,
    RetryIn,
    RetryOut,
)
from core import ledger, payments
from core.errors import NotFound
from core.models import PaymentKind, PaymentStatus, User
from core.payments import RetryNotPossible
from core.subscriptions import get_subscription
from workflows.payments_common import subscription_id
from workflows.subscription import RetryRequest, SubscriptionWorkflow

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1/admin", tags=["support"])


@router.get("/payments", response_model=list[AdminPaymentOut])
async def list_payments(
    support: SupportUser, session: SessionDep, locale: LocaleDep, status: PaymentStatus | None = None
) -> list[AdminPaymentOut]:
    rows = await payments.list_payments(session, status=status.value if status else None)
    emails = {row.user_id: (await session.get(User, row.user_id)) for row in rows}
    return [
        AdminPaymentOut(
            **payment_out(row, locale).model_dump(),
            user_id=row.user_id,
            user_email=getattr(emails.get(row.user_id), "email", ""),
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
