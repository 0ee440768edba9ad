"""A plan bought through a checkout is handed over (``plan_purchased``) while the
SubscriptionWorkflow is granting a renewal or an upgrade (#15): the newest grant is what the
workflow keeps, the next renewal charges it, and the money is exact (PostgreSQL, the Temporal dev
server and the HyperPay emulator).

The window is made deterministic by a worker of the test's own (its own task queues, the real
activities and workflows) whose activity interceptor holds the subscription's ``payments.fulfil``
until the purchase's hand-over has arrived."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import select
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

import worker as worker_module
from activities.payments import FulfilInput
from core.models import Payment
from core.payments import overlap
from core.settings import Settings
from core.subscriptions import get_subscription
from tests.payments.conftest import Shopper
from tests.payments.test_hardening import debits
from tests.payments.test_renewal_race import _audit, keep_first_run, refunds_of
from tests.payments.test_subscription_api import (
    _exists,
    api_with,
    eventually,
    payment_row,
    renewals,
    stop,
    subscribe,
)
from workflows import BACKGROUND
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionState, SubscriptionWorkflow


@dataclass
class Hold:
    """Holds the first subscription ``payments.fulfil`` that ``match``es: before it runs, or
    (``after``) once it has granted, with its answer kept from the workflow until ``release``."""

    match: Callable[[FulfilInput], bool]
    after: bool
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    used: bool = False

    def takes(self, data: Any) -> bool:
        if self.used or not isinstance(data, FulfilInput) or not self.match(data):
            return False
        self.used = True
        return True


class _HoldInbound(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, holds: list[Hold]) -> None:
        super().__init__(next)
        self.holds = holds

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        hold = None
        if info.activity_type == "payments.fulfil" and info.workflow_type == "SubscriptionWorkflow":
            hold = next((h for h in self.holds if h.takes(input.args[0])), None)
        if hold is not None and not hold.after:
            hold.reached.set()
            await hold.release.wait()
        result = await super().execute_activity(input)
        if hold is not None and hold.after:
            hold.reached.set()
            await hold.release.wait()
        return result


class HoldFulfil(Interceptor):
    def __init__(self, holds: list[Hold]) -> None:
        self.holds = holds

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _HoldInbound(next, self.holds)


@dataclass
class HeldWorker:
    settings: Settings  # its task queues: an API started with them runs its workflows here
    holds: list[Hold]


@pytest_asyncio.fixture
async def held(pay_settings: Settings, client: Client) -> AsyncIterator[HeldWorker]:
    own = pay_settings.model_copy(update={"temporal_task_queue_prefix": f"hold-{uuid.uuid4().hex[:8]}-"})
    deps = worker_module.build_deps(own)
    holds: list[Hold] = []
    workers = worker_module.build_workers(client, deps, [BACKGROUND], interceptors=[HoldFulfil(holds)])
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield HeldWorker(own, holds)
    finally:
        for hold in holds:
            hold.release.set()
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        for task in tasks:
            task.cancel()
        await deps.aclose()


async def _state(handle: WorkflowHandle[Any, Any]) -> SubscriptionState | None:
    try:
        state: SubscriptionState = await handle.query(SubscriptionWorkflow.state)
    except Exception:  # noqa: BLE001 - between runs (continue-as-new)
        return None
    return state


async def _plan_is(handle: WorkflowHandle[Any, Any], plan_id: str) -> SubscriptionState | None:
    state = await _state(handle)
    return state if state is not None and state.plan_id == plan_id else None


async def _next_run(client: Client, workflow_id: str, first_run: str) -> WorkflowHandle[Any, Any] | None:
    described = await client.get_workflow_handle(workflow_id).describe()
    return None if described.run_id == first_run else client.get_workflow_handle(workflow_id)


async def _payments(deps: worker_module.WorkerDeps, user_id: str, kind: str) -> list[Payment]:
    async with deps.db.session() as session:
        query = select(Payment).where(Payment.user_id == user_id, Payment.kind == kind)
        return list((await session.execute(query.order_by(Payment.created_at))).scalars())


async def _granted_renewal_of(deps: worker_module.WorkerDeps, user_id: str, plan_id: str) -> Payment | None:
    found = await renewals(deps, user_id)
    return next((p for p in found if p.item_id == plan_id and p.fulfilled_at is not None), None)


async def _opener(deps: worker_module.WorkerDeps, user_id: str) -> tuple[str, str]:
    async with deps.db.session() as session:
        subscription = await get_subscription(session, user_id)
        assert subscription is not None
        return subscription.plan_id, await overlap.period_opener(session, user_id) or ""


def _renewed(done: list[Payment], plan_id: str) -> set[tuple[str, str]]:
    """The current period, as ``_opener`` reads it, when a renewal of ``plan_id`` opened it."""
    return {(plan_id, f"payment:{p.id}") for p in done if p.item_id == plan_id}


async def _refunds(control: httpx.AsyncClient, payments: list[Payment]) -> list[dict[str, Any]]:
    found = []
    for payment in payments:
        for debit in await debits(control, payment.id):
            found += await refunds_of(control, debit["id"])
    return found


async def test_a_plan_handed_over_while_a_renewal_is_granted_is_kept_and_renewed(
    shopper: Callable[..., Awaitable[Shopper]],
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    held: HeldWorker,
    client: Client,
) -> None:
    """Pro is bought while Starter's renewal is being granted (granted at the database, its
    answer not yet back in the workflow): Pro's grant is the newer, so the workflow goes on with
    Pro (the old code continued with Starter: its next renewal charged Starter, then refunded it)."""
    buyer = await shopper()
    hold = Hold(lambda data: bool(data.renews), after=True)  # the renewal's grant
    held.holds.append(hold)
    workflow_id = subscription_id(buyer.user_id)
    async with api_with(held.settings, payments_renewal_period_s=4.0) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        handle = client.get_workflow_handle(workflow_id)
        try:
            await eventually(lambda: _exists(handle))
            first_run = (await handle.describe()).run_id
            await asyncio.wait_for(hold.reached.wait(), 30)  # Starter renewed at the database
            bought = await subscribe(buyer, url, emulator_base, plan="pro")  # priced after it
            handed = await eventually(lambda: _plan_is(handle, "pro"))  # the hand-over arrived
            hold.release.set()
            after = await eventually(lambda: _next_run(client, workflow_id, first_run), 30)
            state = await eventually(lambda: _state(after))
            assert state.plan_id == "pro", "the plan handed over during the renewal's grant was lost"
            renewed = await eventually(lambda: _granted_renewal_of(pay_worker, buyer.user_id, "pro"), 30)
            await keep_first_run(client, workflow_id, "hand-over-during-renewal")
        finally:
            await stop(client, buyer.user_id)
    assert state.plan_id == "pro", "the plan handed over during the renewal's grant was lost"
    assert state.period_end == handed.period_end and state.status == "active"
    done = await renewals(pay_worker, buyer.user_id)
    starter_renewal, pro_renewal = done[:2]
    assert (starter_renewal.item_id, starter_renewal.status) == ("starter", "succeeded")
    assert starter_renewal.fulfilled_at is not None
    # the next renewal charged Pro's price and was granted (not superseded, not refunded)
    assert pro_renewal.id == renewed.id
    assert (pro_renewal.status, pro_renewal.amount_fils) == ("succeeded", 5000)
    purchase = await payment_row(pay_worker, bought.id)
    # Pro was priced after the renewal: credited with the renewal's almost unused month
    assert 2000 <= purchase.amount_fils <= 2020 and purchase.amount_fils % 10 == 0
    paid = [await payment_row(pay_worker, first.id), starter_renewal, purchase, pro_renewal]
    assert [len(await debits(wired, p.id)) for p in paid] == [1, 1, 1, 1]  # one charge each
    assert await _refunds(wired, paid) == []  # nothing overlapped: nothing refunded
    assert await _audit(pay_worker, purchase.id, overlap.OVERLAP) is None
    assert await _opener(pay_worker, buyer.user_id) in _renewed(done, "pro")


async def test_an_upgrade_granted_over_a_plan_handed_over_meanwhile_is_kept(
    shopper: Callable[..., Awaitable[Shopper]],
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    held: HeldWorker,
    client: Client,
) -> None:
    """Starter → Creator upgrade charged; before it is granted, Pro is bought through a checkout
    and handed over; then the upgrade is granted over Pro. The upgrade is granted last, so it
    wins: the workflow has Creator (the old code kept Pro: its next renewal charged Pro and was
    refunded), and Pro's payment is refunded for the Pro time the upgrade replaced, less the
    credit the upgrade already had (the old overlap rule refunded nothing: 9 JOD for a month)."""
    buyer = await shopper()
    hold = Hold(lambda data: not data.renews, after=False)  # the upgrade's grant
    held.holds.append(hold)
    workflow_id = subscription_id(buyer.user_id)
    async with api_with(held.settings, payments_renewal_period_s=8.0) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        handle = client.get_workflow_handle(workflow_id)
        try:
            await eventually(lambda: _exists(handle))
            first_run = (await handle.describe()).run_id
            change = asyncio.create_task(
                buyer.api.post(
                    "/v1/subscription/change", json={"plan": "creator"}, headers={"Idempotency-Key": "up-1"}
                )
            )
            await asyncio.wait_for(hold.reached.wait(), 30)  # the upgrade is charged, not granted
            bought = await subscribe(buyer, url, emulator_base, plan="pro")
            await eventually(lambda: _plan_is(handle, "pro"))  # Pro handed over
            hold.release.set()
            changed = await asyncio.wait_for(change, 30)
            state = await handle.query(SubscriptionWorkflow.state)
            assert state.plan_id == "creator", "the upgrade granted last was lost from the workflow"
            async with pay_worker.db.reader() as session:  # before the renewal sets it again
                after_upgrade = await get_subscription(session, buyer.user_id)
            assert after_upgrade is not None
            card_after_upgrade = after_upgrade.registration_id
            renewed = await eventually(lambda: _granted_renewal_of(pay_worker, buyer.user_id, "creator"), 40)
            await eventually(lambda: _next_run(client, workflow_id, first_run), 30)
            await keep_first_run(client, workflow_id, "hand-over-during-upgrade")
        finally:
            await stop(client, buyer.user_id)
    assert changed.status_code == 200, changed.text
    assert changed.json()["plan_id"] == "creator" and state.plan_id == "creator"
    [upgrade] = await _payments(pay_worker, buyer.user_id, "upgrade")
    purchase = await payment_row(pay_worker, bought.id)
    done = await renewals(pay_worker, buyer.user_id)
    renewal = done[0]
    # the next renewal charged Creator (the upgrade's plan) and was granted
    assert renewal.id == renewed.id and (renewal.status, renewal.amount_fils) == ("succeeded", 7000)
    # the card is the one Pro was bought with, in the workflow and the database alike (the
    # upgrade's grant used to put Starter's card back in the database)
    first_card = (await payment_row(pay_worker, first.id)).registration_id
    assert purchase.registration_id and purchase.registration_id != first_card
    assert renewal.registration_id == purchase.registration_id == card_after_upgrade
    paid = [await payment_row(pay_worker, first.id), upgrade, purchase, renewal]
    assert [len(await debits(wired, p.id)) for p in paid] == [1, 1, 1, 1]  # one charge each
    # both were priced against Starter's almost unused month (≈ 2.99 JOD of credit each)
    assert 4000 <= upgrade.amount_fils <= 4020 and 2000 <= purchase.amount_fils <= 2020
    # Pro's month, hardly used (4.99 JOD left), less the credit the upgrade already had, at most
    # what Pro cost: the upgrade should have been credited for Pro, not for Starter
    owed = min(purchase.amount_fils, 4990 - (7000 - upgrade.amount_fils))
    decided = await _audit(pay_worker, upgrade.id, overlap.REFUNDED)
    assert decided is not None and decided.details["refund_payment_id"] == purchase.id
    assert int(decided.details["amount_fils"]) == owed > 0
    [refund] = await _refunds(wired, paid)  # the one refund: of Pro's debit
    [pro_debit] = await debits(wired, purchase.id)
    assert refund["referencedId"] == pro_debit["id"] and refund["amount"] == f"{owed / 1000:.2f}"
    net = 3000 + upgrade.amount_fils + purchase.amount_fils - owed  # one Creator month (+ rounding)
    assert 7000 <= net <= 7030
    assert await _opener(pay_worker, buyer.user_id) in _renewed(done, "creator")
    assert {p.item_id for p in done} == {"creator"}  # never Pro again
