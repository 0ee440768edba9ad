"""Two plan purchases granted close together hand their periods to the SubscriptionWorkflow in
no guaranteed order: a stale hand-over (the older grant arriving last) must not replace the
newer period, or the next renewal charges the plan the person no longer has (PostgreSQL, the
Temporal dev server and the HyperPay emulator)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

import worker as worker_module
from activities.payments import STALE_PERIOD, FulfilInput, PaymentActivities
from core.accounts import get_or_create_user
from core.settings import Settings
from core.subscriptions import get_subscription
from providers.payments.hyperpay import HyperPayClient
from tests.payments.conftest import Shopper
from tests.payments.test_hardening import _paid
from tests.payments.test_renewal_race import keep_first_run
from tests.payments.test_subscription_api import _exists, api_with, eventually, stop, subscribe
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionInput, SubscriptionWorkflow

SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
TASK_DONE = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


async def _plan_is(handle: WorkflowHandle[Any, Any], plan_id: str) -> Any:
    state = await handle.query(SubscriptionWorkflow.state)
    return state if state.plan_id == plan_id else None


async def _first_hand_over(client: Client, handle: WorkflowHandle[Any, Any]) -> SubscriptionInput:
    """What the first checkout handed over: the input that started the workflow."""
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [data] = await client.data_converter.decode(started.input.payloads, [SubscriptionInput])
    assert isinstance(data, SubscriptionInput)
    return data


async def _signals_handled(handle: WorkflowHandle[Any, Any], count: int) -> bool:
    """``count`` plan_purchased signals are in the history, and a workflow task ran after them."""
    events = (await handle.fetch_history()).events
    signals = [i for i, e in enumerate(events) if e.event_type == SIGNALED]
    done = [i for i, e in enumerate(events) if e.event_type == TASK_DONE]
    return len(signals) >= count and bool(done) and done[-1] > signals[count - 1]


async def test_a_stale_plan_hand_over_arriving_last_does_not_replace_the_newer_period(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    handle = client.get_workflow_handle(subscription_id(buyer.user_id))
    async with api_with(pay_settings) as url:
        await subscribe(buyer, url, emulator_base, plan="starter")  # granted first: starts the workflow
        try:
            await eventually(lambda: _exists(handle))
            starter = await _first_hand_over(client, handle)
            await subscribe(buyer, url, emulator_base, plan="pro")  # granted a moment later
            newer = await eventually(lambda: _plan_is(handle, "pro"))
            # the Starter checkout's hand-over is delivered last (its signal was slower)
            await handle.signal(SubscriptionWorkflow.plan_purchased, starter)
            await eventually(lambda: _signals_handled(handle, 2))
            state = await handle.query(SubscriptionWorkflow.state)
            await keep_first_run(client, handle.id, "stale-hand-over")  # the ignored signal
        finally:
            await stop(client, buyer.user_id)
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
    assert subscription is not None and subscription.plan_id == "pro"
    assert state.plan_id == subscription.plan_id, "the stale hand-over replaced the newer period"
    assert state.period_end == newer.period_end


async def test_a_late_payment_granted_before_a_newer_plan_is_not_handed_over_after_it(
    pay_settings: Settings,
    emulator_base: str,
    control: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
) -> None:
    """A late Starter granted by its decision, then Pro granted, then the late checkout's own
    ``fulfil`` (its hand-over would come last): that fulfilment is marked stale, so the checkout
    does not hand Starter to the SubscriptionWorkflow; each grant's sequence is higher than the
    one before. The activities run in that order by hand (no webhook URL: no workflow joins in)."""
    hyperpay = HyperPayClient.from_settings(pay_settings)
    acts = PaymentActivities(pay_settings, pay_worker.db, hyperpay)
    async with pay_worker.db.session() as session:
        user = await get_or_create_user(session, f"order-{uuid.uuid4().hex[:8]}@example.com", "en")
    try:
        late = await _paid(acts, emulator_base, user.id, "starter")
        later = await _paid(acts, emulator_base, user.id, "pro")
        assert await acts.late_decision(late.id) == "grant"
        pro = await acts.fulfil(FulfilInput(later.id))
        pro_again = await acts.fulfil(FulfilInput(later.id))  # a retried activity: still current
        starter = await acts.fulfil(FulfilInput(late.id))  # the late run's own fulfil, last
    finally:
        await hyperpay.aclose()
    assert pro.sequence > 0 and pro_again.sequence >= pro.sequence
    assert starter.sequence == STALE_PERIOD and starter.item_id == "starter"
