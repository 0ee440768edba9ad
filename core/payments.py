"""Payments: what can be bought, one row per payment and per HyperPay attempt, webhook events,
fulfilment (plan period or add-on, idempotent by payment) and the support audit log.

Money is integer fils. Nothing here trusts the shopper's redirect or a webhook's content: a
payment's status changes only from a server-to-server result recorded by an activity.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, Conflict, NotFound, ValidationFailed
from core.ledger import grant_addon, insert_ignore
from core.models import (
    AuditLog,
    Payment,
    PaymentAttempt,
    PaymentKind,
    PaymentStatus,
    User,
    WebhookEvent,
)
from core.models.base import new_id, utcnow
from core.plans import FREE, get_addon, get_plan
from core.proration import Quote, quote
from core.subscriptions import Subscription, get_subscription, set_plan

ITEM = re.compile(r"^(plan|addon):([a-z0-9_]{1,32})$")
CARD = "VISA MASTER"
MADA = "MADA"
FINAL = (
    PaymentStatus.succeeded.value,
    PaymentStatus.failed.value,
    PaymentStatus.expired.value,
    PaymentStatus.refunded.value,
)


class UnknownItem(ValidationFailed):
    code = "unknown_item"
    message = "This item cannot be bought."


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = "This payment does not exist."


class RetryNotPossible(Conflict):
    code = "retry_not_possible"
    message = "This payment cannot be retried now."


class NoSubscription(Conflict):
    code = "no_subscription"
    message = "You have no paid subscription."


class ChangeInProgress(Conflict):
    code = "change_in_progress"
    message = "A plan change is already in progress. Please wait for it to finish."


class IdempotencyKeyRequired(AppError):
    status_code = 400
    code = "idempotency_key_required"
    message = "Send an Idempotency-Key header (1 to 64 letters, digits, '-' or '_')."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for another request."


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def idempotency_key(value: str | None) -> str:
    """The client's ``Idempotency-Key`` for a money-moving request (required, validated)."""
    if not value or not IDEMPOTENCY_KEY.match(value):
        raise IdempotencyKeyRequired()
    return value


class InvalidWebhook(AppError):
    status_code = 400
    code = "invalid_webhook"
    message = "The notification could not be verified."


class PaymentUnavailable(AppError):
    status_code = 503
    code = "payment_unavailable"
    message = "Payments are temporarily unavailable. Please try again shortly."


def return_signature(secret: str, payment_id: str) -> str:
    """An HMAC of the payment id: a return link works only for the payment it was made for."""
    digest = hmac.new(secret.encode(), f"billing-return:{payment_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def return_url(public_url: str, secret: str, payment_id: str) -> str:
    """Where HyperPay sends the shopper back: ``/billing/return`` with the signed payment id."""
    signature = return_signature(secret, payment_id)
    return f"{public_url.rstrip('/')}/billing/return?payment={payment_id}&sig={signature}"


@dataclass(frozen=True)
class Item:
    kind: PaymentKind
    item_id: str
    amount_fils: int


def parse_item(text: str) -> Item:
    """``plan:pro`` or ``addon:tokens_200k`` → what it costs (Free is not for sale)."""
    match = ITEM.match(text.strip())
    if not match:
        raise UnknownItem()
    kind, item_id = match.groups()
    try:
        if kind == "plan":
            plan = get_plan(item_id)
            if plan.id == FREE or plan.price_fils <= 0:
                raise UnknownItem()
            return Item(PaymentKind.plan, plan.id, plan.price_fils)
        addon = get_addon(item_id)
    except NotFound:
        raise UnknownItem() from None
    return Item(PaymentKind.addon, addon.id, addon.price_fils)


@dataclass(frozen=True)
class ProviderOutcome:
    """A HyperPay answer as core needs it (``result_class`` from the official code groups)."""

    code: str
    description: str
    result_class: str  # success | manual_review | pending | rejected | temporary
    provider_payment_id: str = ""
    registration_id: str = ""
    card_last4: str = ""


def status_for(result_class: str) -> PaymentStatus:
    """Only a final success is paid: manual review waits for HyperPay's final result (unlike
    HyperPay's own plugins, which grant on review and would have to claw back a rejection)."""
    if result_class == "success":
        return PaymentStatus.succeeded
    if result_class in ("pending", "temporary", "manual_review"):
        return PaymentStatus.pending
    return PaymentStatus.failed


async def create_payment(
    session: AsyncSession,
    user_id: str,
    item: Item,
    *,
    brand: str = CARD,
    key: str | None = None,
    registration_id: str | None = None,
    initial_transaction_id: str | None = None,
) -> Payment:
    """A new payment; with ``key`` (renewals) the existing one for that key is returned."""
    if key:
        existing = (await session.execute(select(Payment).where(Payment.key == key))).scalar_one_or_none()
        if existing is not None:
            return existing
    payment = Payment(
        id=new_id(),
        user_id=user_id,
        kind=item.kind.value,
        item_id=item.item_id,
        amount_fils=item.amount_fils,
        brand=brand,
        status=PaymentStatus.created.value,
        key=key,
        registration_id=registration_id,
        initial_transaction_id=initial_transaction_id,
    )
    if not key:
        session.add(payment)
        await session.flush()
        return payment
    try:  # two requests with one key at once: the second finds the first's row
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        existing = (await session.execute(select(Payment).where(Payment.key == key))).scalar_one()
        return existing
    return payment


async def get_payment(session: AsyncSession, payment_id: str, *, user_id: str | None = None) -> Payment:
    """The payment (scoped to ``user_id`` when given: another user's id answers 404)."""
    query = select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    if user_id is not None:
        query = query.where(Payment.user_id == user_id)
    payment = (await session.execute(query)).scalar_one_or_none()
    if payment is None:
        raise PaymentNotFound()
    return payment


async def lock_payment(session: AsyncSession, payment_id: str) -> Payment:
    query = (
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payment = (await session.execute(query)).scalar_one_or_none()
    if payment is None:
        raise PaymentNotFound()
    return payment


async def by_checkout(session: AsyncSession, checkout_id: str) -> Payment | None:
    query = select(Payment).where(Payment.checkout_id == checkout_id)
    return (await session.execute(query)).scalar_one_or_none()


async def by_reference(session: AsyncSession, merchant_transaction_id: str) -> Payment | None:
    query = (
        select(Payment)
        .join(PaymentAttempt, PaymentAttempt.payment_id == Payment.id)
        .where(PaymentAttempt.merchant_transaction_id == merchant_transaction_id)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def history(session: AsyncSession, user_id: str, *, limit: int = 50) -> list[Payment]:
    query = (
        select(Payment)
        .where(Payment.user_id == user_id, Payment.status != PaymentStatus.created.value)
        .order_by(Payment.created_at.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def list_payments(
    session: AsyncSession, *, status: str | None = None, limit: int = 100
) -> list[Payment]:
    query = select(Payment).order_by(Payment.created_at.desc()).limit(limit)
    if status:
        query = query.where(Payment.status == status)
    return list((await session.execute(query)).scalars())


async def attempts(session: AsyncSession, payment_id: str) -> list[PaymentAttempt]:
    query = (
        select(PaymentAttempt).where(PaymentAttempt.payment_id == payment_id).order_by(PaymentAttempt.number)
    )
    return list((await session.execute(query)).scalars())


async def new_attempt(session: AsyncSession, payment: Payment, *, actor: str = "system") -> PaymentAttempt:
    """The next attempt, with its own merchantTransactionId (``<payment>-<n>``)."""
    payment.attempts += 1
    attempt = PaymentAttempt(
        payment_id=payment.id,
        number=payment.attempts,
        merchant_transaction_id=f"{payment.id}-{payment.attempts}",
        actor=actor,
    )
    session.add(attempt)
    await session.flush()
    return attempt


async def last_attempt(session: AsyncSession, payment_id: str) -> PaymentAttempt | None:
    query = (
        select(PaymentAttempt)
        .where(PaymentAttempt.payment_id == payment_id)
        .order_by(PaymentAttempt.number.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


def record_outcome(payment: Payment, attempt: PaymentAttempt | None, outcome: ProviderOutcome) -> None:
    """Store what HyperPay said; a payment that succeeded never goes back."""
    if attempt is not None:
        attempt.result_code = outcome.code
        attempt.result_class = outcome.result_class
        attempt.provider_payment_id = outcome.provider_payment_id or attempt.provider_payment_id
    if payment.status == PaymentStatus.succeeded.value:
        return
    payment.status = status_for(outcome.result_class).value
    payment.result_code = outcome.code
    payment.result_description = outcome.description[:500]
    payment.provider_payment_id = outcome.provider_payment_id or payment.provider_payment_id
    payment.registration_id = outcome.registration_id or payment.registration_id
    payment.card_last4 = outcome.card_last4 or payment.card_last4
    if payment.kind == PaymentKind.plan.value and payment.status == PaymentStatus.succeeded.value:
        payment.initial_transaction_id = payment.initial_transaction_id or payment.provider_payment_id


def settled(payment: Payment) -> bool:
    """Nothing left to happen: failed/expired, or succeeded and granted."""
    if payment.status == PaymentStatus.succeeded.value:
        return payment.fulfilled_at is not None
    return payment.status in FINAL


def mark(payment: Payment, status: PaymentStatus, code: str | None = None, description: str = "") -> None:
    if payment.status == PaymentStatus.succeeded.value:
        return
    payment.status = status.value
    if code:
        payment.result_code = code
        payment.result_description = description[:500]


@dataclass(frozen=True)
class Fulfilled:
    payment: Payment
    subscription: Subscription | None
    newly: bool


async def fulfil(
    session: AsyncSession,
    payment_id: str,
    now: datetime | None = None,
    *,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> Fulfilled:
    """Grant what a succeeded payment bought, once: a plan period (``set_plan``) or an add-on.
    The ledger keys are ``payment:<id>``, so even a concurrent second call grants nothing."""
    now = now or utcnow()
    payment = await lock_payment(session, payment_id)
    if payment.status != PaymentStatus.succeeded.value:
        raise RetryNotPossible()
    key = f"payment:{payment.id}"
    subscription: Subscription | None = None
    newly = payment.fulfilled_at is None
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
        if payment.registration_id:
            subscription.registration_id = payment.registration_id
    if newly:
        payment.fulfilled_at = now
    await session.flush()
    return Fulfilled(payment, subscription, newly)


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


async def mark_refunded(session: AsyncSession, payment: Payment, code: str, ok: bool) -> None:
    """Record a refund of a payment that was never granted (succeeded → refunded)."""
    if ok:
        payment.status = PaymentStatus.refunded.value
        payment.result_code = code
        payment.result_description = "refunded: paid after the checkout was no longer awaited"
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


async def paid_period(session: AsyncSession, user_id: str) -> PaidPeriod | None:
    subscription = await get_subscription(session, user_id)
    if subscription is None:
        return None
    card = (
        await session.execute(
            select(Payment.registration_id, Payment.initial_transaction_id)
            .where(
                Payment.user_id == user_id,
                Payment.kind == PaymentKind.plan.value,
                Payment.status == PaymentStatus.succeeded.value,
                Payment.registration_id.is_not(None),
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


def webhook_dedupe_key(data: dict[str, Any]) -> str:
    payload = data.get("payload") or {}
    result = payload.get("result") or {}
    return ":".join(
        str(part)
        for part in (
            data.get("type", ""),
            data.get("action", ""),
            payload.get("id", ""),
            result.get("code", ""),
        )
    )


async def store_webhook(session: AsyncSession, data: dict[str, Any]) -> tuple[WebhookEvent, bool]:
    """Keep the decrypted notification; a replay bumps ``deliveries`` (returns ``new=False``)."""
    payload = data.get("payload") or {}
    reference = str(payload.get("merchantTransactionId") or "") or None
    payment = await by_reference(session, reference) if reference else None
    key = webhook_dedupe_key(data)
    row = {
        "id": new_id(),
        "provider": "hyperpay",
        "dedupe_key": key,
        "type": str(data.get("type", ""))[:32],
        "provider_payment_id": str(payload.get("id") or "")[:64] or None,
        "merchant_transaction_id": reference,
        "result_code": str((payload.get("result") or {}).get("code") or "")[:16] or None,
        "payment_id": payment.id if payment else None,
        "payload": data,
        "deliveries": 1,
        "received_at": utcnow(),
    }
    inserted = await session.execute(insert_ignore(session, WebhookEvent, row))
    new = bool(getattr(inserted, "rowcount", 0))
    if not new:
        await session.execute(
            update(WebhookEvent)
            .where(WebhookEvent.dedupe_key == key)
            .values(deliveries=WebhookEvent.deliveries + 1)
            .execution_options(synchronize_session=False)
        )
    event = (await session.execute(select(WebhookEvent).where(WebhookEvent.dedupe_key == key))).scalar_one()
    return event, new


async def webhook_events(session: AsyncSession, payment_id: str) -> list[WebhookEvent]:
    query = (
        select(WebhookEvent).where(WebhookEvent.payment_id == payment_id).order_by(WebhookEvent.received_at)
    )
    return list((await session.execute(query)).scalars())


async def audit(
    session: AsyncSession,
    *,
    actor_id: str,
    action: str,
    target_type: str,
    target_id: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason[:500],
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def audit_log(
    session: AsyncSession, *, limit: int = 100, target_id: str | None = None
) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.created_at.desc()).limit(limit)
    if target_id:
        query = query.where(AuditLog.target_id == target_id)
    return list((await session.execute(query)).scalars())


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


async def get_attempt(session: AsyncSession, attempt_id: str) -> PaymentAttempt | None:
    return await session.get(PaymentAttempt, attempt_id)


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.execute(query)).scalar_one_or_none()
