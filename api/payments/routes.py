"""Payments API: checkout, the shopper's return, the HyperPay webhook, history, subscription.

The redirect and the webhook never change a payment: they wake its CheckoutWorkflow, which
verifies with HyperPay server to server."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, SessionDep, StateDep, TemporalDep
from api.payments.schemas import (
    Accepted,
    CheckoutIn,
    CheckoutOut,
    PaymentOut,
    PlanChangeIn,
    ReturnOut,
    SubscriptionOut,
    Widget,
)
from core import payments
from core.i18n import format_fils
from core.models import Payment, PaymentKind
from core.payments import CARD, MADA, InvalidWebhook, NoSubscription, PaymentUnavailable
from core.settings import Settings
from core.subscriptions import get_subscription
from providers.payments.hyperpay import WebhookDecryptionError, decrypt_webhook
from workflows import BACKGROUND, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_PROVIDER, PULSE_USER_ID
from workflows.checkout import CheckoutInput, CheckoutWorkflow
from workflows.payments_common import checkout_id, subscription_id
from workflows.subscription import PlanChange, SubscriptionWorkflow

log = structlog.get_logger(__name__)
router = APIRouter(tags=["payments"])


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
    return f"{settings.public_url.rstrip('/')}/billing/return?payment={payment_id}"


@router.post("/v1/payments/checkout", response_model=CheckoutOut, status_code=201)
async def checkout(
    body: CheckoutIn, user: CurrentUser, state: StateDep, temporal: TemporalDep, locale: LocaleDep
) -> CheckoutOut:
    """Create a payment and its HyperPay checkout; the page then loads ``widget.script_url``."""
    item = payments.parse_item(body.item)
    brand = MADA if body.brand == "mada" and state.settings.hyperpay_entity_id_mada else CARD
    async with state.db.session() as session:  # committed before the workflow reads it
        payment = await payments.create_payment(session, user.id, item, brand=brand)
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
    request: Request, state: StateDep, temporal: TemporalDep, locale: LocaleDep
) -> Response:
    """Where HyperPay sends the shopper back (``?payment=…&id=<checkout>&resourcePath=…``)."""
    params = request.query_params
    async with state.db.session() as session:
        payment = await _find_returning(session, params.get("payment", ""), params.get("id", ""))
    await _signal_checkout(temporal, payment, "shopper_returned")
    payment = await _await_result(state, payment.id, state.settings.payments_return_wait_s)
    result = ReturnOut(payment_id=payment.id, status=payment.status, result_code=payment.result_code)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(result.model_dump())
    return RedirectResponse(f"/billing?payment={payment.id}", status_code=303)  # the billing page shows it


async def _find_returning(session: AsyncSession, payment_id: str, checkout: str) -> Payment:
    payment = await payments.by_checkout(session, checkout) if checkout else None
    if payment is None and payment_id:
        payment = await payments.get_payment(session, payment_id)
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
        await asyncio.sleep(0.2)


@router.post("/v1/payments/webhook/hyperpay", response_model=Accepted)
async def hyperpay_webhook(request: Request, state: StateDep, temporal: TemporalDep) -> Accepted:
    """Decrypt (400 on a bad tag, nothing stored), store (deduped), then wake the workflow."""
    body = await request.body()
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
    if payment is not None and payment.kind in (PaymentKind.plan.value, PaymentKind.addon.value):
        await _signal_checkout(temporal, payment, "webhook_received")
    return Accepted()


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
    body: PlanChangeIn, user: CurrentUser, state: StateDep, temporal: TemporalDep
) -> SubscriptionOut:
    """Upgrade now (charged on the saved card) or downgrade at period end."""
    handle = temporal.get_workflow_handle(subscription_id(user.id))
    try:
        await handle.execute_update(SubscriptionWorkflow.change_plan, PlanChange(body.plan, user.id))
    except Exception as error:  # noqa: BLE001 - rejected or no running subscription
        log.info("payments.change_refused", user_id=user.id, error=str(error))
        raise NoSubscription() from None
    async with state.db.session() as session:
        return await _subscription_out(session, user.id)
