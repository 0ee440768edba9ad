"""Payments API: checkout, the shopper's return, the HyperPay webhook, history, subscription.

The redirect and the webhook never change a payment: they wake its CheckoutWorkflow, which
verifies with HyperPay server to server."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.auth.deps import CurrentUser, OptionalPrincipal
from api.deps import LocaleDep, SessionDep, StateDep, TemporalDep
from api.payments.schemas import (
    Accepted,
    CheckoutIn,
    CheckoutOut,
    PaymentOut,
    PlanChangeIn,
    QuoteOut,
    ReturnOut,
    SubscriptionOut,
    Widget,
)
from api.ratelimit import LimiterDep, client_ip
from core import payments
from core.errors import AppError
from core.i18n import format_fils
from core.models import Payment, PaymentKind
from core.payments import (
    CARD,
    MADA,
    ChangeInProgress,
    InvalidWebhook,
    NoSubscription,
    PaymentUnavailable,
    idempotency_key,
)
from core.settings import Settings
from core.subscriptions import get_subscription
from providers.payments.hyperpay import ResultClass, WebhookDecryptionError, classify, decrypt_webhook
from workflows import BACKGROUND, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_PROVIDER, PULSE_USER_ID
from workflows.checkout import CheckoutInput, CheckoutWorkflow
from workflows.payments_common import checkout_id, subscription_id
from workflows.subscription import PlanChange, SubscriptionWorkflow

log = structlog.get_logger(__name__)
router = APIRouter(tags=["payments"])
# the pattern is in the schema (so fuzzers send usable keys); a missing key is 400 from
# ``idempotency_key``, a malformed one 422
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", pattern=payments.IDEMPOTENCY_KEY.pattern, max_length=64)
]
RETURN_WAIT_MAX_S = 8.0  # a return call never holds a request longer than this
LATE_CLASSES = (ResultClass.success, ResultClass.pending, ResultClass.manual_review)


class WebhookTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    message = "The request is too large."


def payment_out(payment: Payment, locale: str) -> PaymentOut:
    return PaymentOut(
        id=payment.id,
        kind=payment.kind,
        item_id=payment.item_id,
        amount=payment.amount_fils,
        amount_display=format_fils(payment.amount_fils, locale),
        currency=payment.currency,
        status=payment.status,
        result_code=payment.result_code,
        result_description=payment.result_description,
        card_last4=payment.card_last4,
        attempts=payment.attempts,
        fulfilled=payment.fulfilled_at is not None,
        created_at=payment.created_at,
    )


def checkout_input(settings: Settings, payment_id: str, user_id: str) -> CheckoutInput:
    return CheckoutInput(
        payment_id=payment_id,
        user_id=user_id,
        timeout_s=settings.payments_checkout_timeout_s,
        poll_initial_s=settings.payments_poll_initial_s,
        poll_max_s=max(settings.payments_poll_initial_s, 300.0),
        retry_initial_s=settings.payments_retry_initial_s,
        subscription_period_s=settings.payments_renewal_period_s or None,
        dunning_delays_s=[days * 86400.0 for days in settings.payments_dunning_days],
    )


def return_url(settings: Settings, payment_id: str) -> str:
    return payments.return_url(settings.public_url, settings.secret_key.get_secret_value(), payment_id)


@router.post("/v1/payments/checkout", response_model=CheckoutOut, status_code=201)
async def checkout(
    body: CheckoutIn,
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
    locale: LocaleDep,
    key: IdempotencyKey = None,
) -> CheckoutOut:
    """Create a payment and its HyperPay checkout; the page then loads ``widget.script_url``.
    The same ``Idempotency-Key`` answers the same payment and checkout (a double click pays once)."""
    client_key = idempotency_key(key)
    item = payments.parse_item(body.item)
    brand = MADA if body.brand == "mada" and state.settings.hyperpay_entity_id_mada else CARD
    async with state.db.session() as session:  # committed before the workflow reads it
        if item.kind == PaymentKind.plan:  # an upgrade from a paid period is credited (proration)
            priced = await payments.upgrade_quote(session, user.id, item.item_id)
            item = payments.Item(item.kind, item.item_id, priced.amount_fils)
        payment = await payments.create_payment(
            session, user.id, item, brand=brand, key=f"checkout:{user.id}:{client_key}"
        )
    if payment.item_id != item.item_id or payment.brand != brand or payment.status in payments.FINAL:
        raise payments.IdempotencyKeyReused()  # another item, or a checkout already over
    settings = state.settings
    start = WithStartWorkflowOperation(
        CheckoutWorkflow.run,
        checkout_input(settings, payment.id, user.id),
        id=checkout_id(payment.id),
        task_queue=settings.task_queue(BACKGROUND),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(PULSE_USER_ID, user.id),
                SearchAttributePair(PULSE_JOB_KIND, "checkout"),
                SearchAttributePair(PULSE_PROVIDER, "hyperpay"),
                SearchAttributePair(PULSE_JOB_STATUS, "pending"),
            ]
        ),
        static_summary=f"checkout {item.kind.value}:{item.item_id}",
    )
    try:
        created = await temporal.execute_update_with_start_workflow(
            CheckoutWorkflow.checkout, start_workflow_operation=start
        )
    except Exception as error:  # noqa: BLE001 - the workflow could not prepare the checkout
        log.warning("payments.checkout_failed", payment_id=payment.id, error=str(error))
        raise PaymentUnavailable() from None
    return CheckoutOut(
        payment_id=payment.id,
        checkout_id=created.checkout_id,
        amount=payment.amount_fils,
        amount_display=format_fils(payment.amount_fils, locale),
        widget=Widget(
            script_url=created.widget_url, brands=brand, shopper_result_url=return_url(settings, payment.id)
        ),
    )


async def _signal_checkout(temporal: TemporalDep, payment: Payment, signal: str) -> None:
    """Wake the checkout's workflow; a finished one has nothing left to learn."""
    handle = temporal.get_workflow_handle(checkout_id(payment.id))
    try:
        await handle.signal(signal)
    except RPCError as error:
        log.info("payments.signal_skipped", payment_id=payment.id, signal=signal, error=str(error))


@router.get("/billing/return", response_model=None)
async def shopper_return(
    request: Request,
    state: StateDep,
    temporal: TemporalDep,
    locale: LocaleDep,
    principal: OptionalPrincipal,
    limiter: LimiterDep,
) -> Response:
    """Where HyperPay sends the shopper back (``?payment=…&sig=…&id=<checkout>&resourcePath=…``).
    Only the payment's owner (signed in) or the holder of the signed return link may read it;
    the wait for a result is bounded and the route is rate-limited per address."""
    await limiter.hit(state.settings.rate_limit_billing_return_ip, "billing-return", client_ip(request))
    params = request.query_params
    async with state.db.session() as session:
        payment = await _find_returning(session, params.get("payment", ""), params.get("id", ""))
    owner = principal is not None and principal.user.id == payment.user_id
    secret = state.settings.secret_key.get_secret_value()
    signed = hmac.compare_digest(params.get("sig", ""), payments.return_signature(secret, payment.id))
    if not (owner or signed):
        raise payments.PaymentNotFound()
    await _signal_checkout(temporal, payment, "shopper_returned")
    wait_s = min(state.settings.payments_return_wait_s, RETURN_WAIT_MAX_S)
    payment = await _await_result(state, payment.id, wait_s)
    result = ReturnOut(payment_id=payment.id, status=payment.status, result_code=payment.result_code)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(result.model_dump())
    return RedirectResponse(f"/billing?payment={payment.id}", status_code=303)  # the billing page shows it


async def _find_returning(session: AsyncSession, payment_id: str, checkout: str) -> Payment:
    payment = await payments.by_checkout(session, checkout[:64]) if checkout else None
    if payment is None and payment_id:
        payment = await payments.get_payment(session, payment_id[:32])
    if payment is None or (checkout and payment.checkout_id != checkout):
        raise payments.PaymentNotFound()
    return payment


async def _await_result(state: StateDep, payment_id: str, wait_s: float) -> Payment:
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        async with state.db.session() as session:
            payment = await payments.get_payment(session, payment_id)
        if payments.settled(payment) or asyncio.get_running_loop().time() >= deadline:
            return payment
        await asyncio.sleep(0.5)


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, refused (413) past ``limit`` bytes, whatever Content-Length claims."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WebhookTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise WebhookTooLarge()
    return bytes(body)


@router.post("/v1/payments/webhook/hyperpay", response_model=Accepted)
async def hyperpay_webhook(
    request: Request, state: StateDep, temporal: TemporalDep, limiter: LimiterDep
) -> Accepted:
    """Decrypt (400 on a bad tag, nothing stored), store (deduped), then wake the workflow; a
    success or pending notification for a payment no longer awaited starts its reconciliation."""
    await limiter.hit(state.settings.rate_limit_webhook_ip, "hyperpay-webhook", client_ip(request))
    body = await _read_capped(request, state.settings.payments_webhook_max_bytes)
    secret = state.settings.hyperpay_webhook_secret.get_secret_value()
    try:
        data = decrypt_webhook(
            secret,
            request.headers.get("x-initialization-vector", ""),
            request.headers.get("x-authentication-tag", ""),
            body,
        )
    except WebhookDecryptionError:
        log.warning("payments.webhook_rejected", size=len(body))
        raise InvalidWebhook() from None
    async with state.db.session() as session:
        event, new = await payments.store_webhook(session, data)
        payment = await payments.get_payment(session, event.payment_id) if event.payment_id else None
    log.info(
        "payments.webhook", event_id=event.id, new=new, payment_id=event.payment_id, code=event.result_code
    )
    if payment is None or payment.kind not in (PaymentKind.plan.value, PaymentKind.addon.value):
        return Accepted()
    if payment.fulfilled_at is None and classify(event.result_code or "") in LATE_CLASSES:
        await _wake_or_reconcile(state, temporal, payment)
    else:
        await _signal_checkout(temporal, payment, "webhook_received")
    return Accepted()


async def _wake_or_reconcile(state: StateDep, temporal: TemporalDep, payment: Payment) -> None:
    """Signal the checkout's workflow; if it has finished, start a reconciling run (same id)
    that verifies with HyperPay and grants or refunds — a late payment is never dropped."""
    data = checkout_input(state.settings, payment.id, payment.user_id)
    data.reconcile = True
    try:
        await temporal.start_workflow(
            CheckoutWorkflow.run,
            data,
            id=checkout_id(payment.id),
            task_queue=state.settings.task_queue(BACKGROUND),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal="webhook_received",
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, payment.user_id),
                    SearchAttributePair(PULSE_JOB_KIND, "checkout"),
                    SearchAttributePair(PULSE_PROVIDER, "hyperpay"),
                    SearchAttributePair(PULSE_JOB_STATUS, "pending"),
                ]
            ),
            static_summary=f"reconcile {payment.kind}:{payment.item_id}",
        )
    except RPCError as error:
        log.warning("payments.reconcile_not_started", payment_id=payment.id, error=str(error))
        raise PaymentUnavailable() from None  # HyperPay delivers again later


@router.get("/v1/payments/history", response_model=list[PaymentOut])
async def payment_history(user: CurrentUser, session: SessionDep, locale: LocaleDep) -> list[PaymentOut]:
    return [payment_out(p, locale) for p in await payments.history(session, user.id)]


@router.get("/v1/payments/{payment_id}", response_model=PaymentOut)
async def payment_detail(
    payment_id: str, user: CurrentUser, session: SessionDep, locale: LocaleDep
) -> PaymentOut:
    return payment_out(await payments.get_payment(session, payment_id, user_id=user.id), locale)


async def _subscription_out(session: AsyncSession, user_id: str) -> SubscriptionOut:
    subscription = await get_subscription(session, user_id)
    if subscription is None:
        raise NoSubscription()
    return SubscriptionOut(
        plan_id=subscription.plan_id,
        status=subscription.status,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
    )


@router.get("/v1/subscription/quote", response_model=QuoteOut)
async def upgrade_quote(
    user: CurrentUser, session: SessionDep, locale: LocaleDep, plan: str = Query(min_length=1, max_length=32)
) -> QuoteOut:
    """What moving to ``plan`` now costs: its price, the credit for the unused part of the
    current paid period, and the amount charged (shown before paying)."""
    found = payments.parse_item(f"plan:{plan}")
    priced = await payments.upgrade_quote(session, user.id, found.item_id)
    return QuoteOut(
        plan_id=priced.plan_id,
        price=priced.price_fils,
        credit=priced.credit_fils,
        amount=priced.amount_fils,
        amount_display=format_fils(priced.amount_fils, locale),
    )


@router.post("/v1/subscription/cancel", response_model=SubscriptionOut)
async def cancel_subscription(user: CurrentUser, state: StateDep, temporal: TemporalDep) -> SubscriptionOut:
    """No more renewals: the plan stays until period end, then Free."""
    async with state.db.session() as session:
        await payments.set_cancel_at_period_end(session, user.id, True)
    try:
        await temporal.get_workflow_handle(subscription_id(user.id)).signal(SubscriptionWorkflow.cancel)
    except RPCError:
        log.info("payments.cancel_without_workflow", user_id=user.id)
    async with state.db.session() as session:
        return await _subscription_out(session, user.id)


@router.post("/v1/subscription/change", response_model=SubscriptionOut)
async def change_plan(
    body: PlanChangeIn, user: CurrentUser, state: StateDep, temporal: TemporalDep, key: IdempotencyKey = None
) -> SubscriptionOut:
    """Upgrade now (charged on the saved card, once per ``Idempotency-Key``, one change at a
    time: 409 ``change_in_progress``) or downgrade at period end."""
    client_key = idempotency_key(key)
    handle = temporal.get_workflow_handle(subscription_id(user.id))
    try:
        await handle.execute_update(
            SubscriptionWorkflow.change_plan, PlanChange(body.plan, user.id, client_key)
        )
    except Exception as error:  # noqa: BLE001 - rejected or no running subscription
        log.info("payments.change_refused", user_id=user.id, error=str(error))
        if "ChangeInProgress" in repr(getattr(error, "cause", None)):
            raise ChangeInProgress() from None
        raise NoSubscription() from None
    async with state.db.session() as session:
        return await _subscription_out(session, user.id)
