"""A renewal settling while the person buys or switches a plan (#15), on PostgreSQL, the Temporal
dev server and the HyperPay emulator: nobody is charged twice for one time, nothing is granted
twice, and the purchase is never lost (``core.payments.overlap``, ``SubscriptionWorkflow``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from temporalio.client import Client

import worker as worker_module
from core.models import AuditLog, Payment, Subscription
from core.models.base import utcnow
from core.models.ledger import LedgerGrant
from core.payments import overlap
from core.settings import Settings
from tests.payments.conftest import Shopper, pay
from tests.payments.test_checkout_api import (
    HELD_PENDING,
    SUCCESS,
    fresh_key,
    grants_for,
    resolve_pending,
    shopper_returns,
    start_checkout,
)
from tests.payments.test_hardening import debits
from tests.payments.test_subscription_api import (
    _exists,
    api_with,
    eventually,
    payment_row,
    renewals,
    stop,
    subscribe,
)
from tests.replay.helpers import HISTORIES, save
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionWorkflow


async def refunds_of(control: httpx.AsyncClient, provider_id: str) -> list[dict[str, Any]]:
    rows = (await control.get("/payments")).json()
    return [p for p in rows if p["paymentType"] == "RF" and p.get("referencedId") == provider_id]


async def renewal_with(deps: worker_module.WorkerDeps, user_id: str, status: str) -> Payment | None:
    return next((p for p in await renewals(deps, user_id) if p.status == status), None)


async def live_plan_grants(deps: worker_module.WorkerDeps, user_id: str) -> list[LedgerGrant]:
    async with deps.db.session() as session:
        query = select(LedgerGrant).where(
            LedgerGrant.user_id == user_id, LedgerGrant.source == "plan", LedgerGrant.expires_at > utcnow()
        )
        return list((await session.execute(query)).scalars())


async def audit_actions(deps: worker_module.WorkerDeps, target_id: str) -> list[AuditLog]:
    async with deps.db.session() as session:
        query = select(AuditLog).where(AuditLog.target_id == target_id).order_by(AuditLog.created_at)
        return list((await session.execute(query)).scalars())


async def test_a_renewal_that_settles_after_a_purchase_is_refunded_and_the_purchase_stands(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=2.0) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        registration = (await payment_row(pay_worker, first.id)).registration_id
        await wired.post("/config", json=HELD_PENDING)  # acquirer-pending renewal, until resolved
        await wired.post(f"/registrations/{registration}/outcomes", json={"outcomes": ["pending"]})
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        try:
            charging = await eventually(lambda: renewal_with(pay_worker, buyer.user_id, "pending"))
            bought = await subscribe(buyer, url, emulator_base, plan="pro")  # while it is pending
            await resolve_pending(wired, charging.id)  # then the renewal settles
            refunded = await eventually(lambda: renewal_with(pay_worker, buyer.user_id, "refunded"), 40)
            state = await eventually(lambda: _plan_is(handle, "pro"))
            await keep_first_run(client, subscription_id(buyer.user_id), "superseded")
        finally:
            await stop(client, buyer.user_id)
    assert refunded.id == charging.id and refunded.fulfilled_at is None
    [debit] = await debits(wired, refunded.id)  # HyperPay took the renewal once …
    [refund] = await refunds_of(wired, debit["id"])  # … and gave all of it back
    assert refund["amount"] == debit["amount"] == "3.00" and refund["result"]["code"] == "000.100.110"
    assert await grants_for(pay_worker, refunded.id) == []  # the renewal granted nothing
    live = await live_plan_grants(pay_worker, buyer.user_id)
    assert {g.key.rsplit(":", 1)[0] for g in live} <= {f"payment:{bought.id}"} | _later(live, bought.id)
    assert {g.ref for g in live} == {"pro"} and state.status == "active"
    assert [a.action for a in await audit_actions(pay_worker, refunded.id)] == [overlap.SUPERSEDED]


async def keep_first_run(client: Client, workflow_id: str, name: str) -> None:
    """With PULSE_RECORD_HISTORIES=1, save the run that took the new path for the replay test."""
    if os.environ.get("PULSE_RECORD_HISTORIES") != "1":
        return
    runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    first = min(runs, key=lambda run: run.start_time)
    history = await client.get_workflow_handle(workflow_id, run_id=first.run_id).fetch_history()
    save(history, HISTORIES / "SubscriptionWorkflow" / f"subscription-{name}.json")


def _later(grants: list[LedgerGrant], bought_id: str) -> set[str]:
    """Keys of periods opened after the purchase (the purchased plan's own renewals)."""
    return {g.key.rsplit(":", 1)[0] for g in grants if g.ref == "pro"}


async def _plan_is(handle: Any, plan_id: str) -> Any:
    try:
        state = await handle.query(SubscriptionWorkflow.state)
    except Exception:  # noqa: BLE001 - between runs (continue-as-new)
        return None
    return state if state.plan_id == plan_id else None


async def _month_nearly_over(
    deps: worker_module.WorkerDeps, user_id: str, payment_id: str, left_s: float
) -> None:
    """Make the first period a calendar month with ``left_s`` seconds left (the renewal timer,
    ``left_s`` too, is the workflow's), so the checkout's credit for it is almost nothing."""
    now = utcnow()
    start, end = now - timedelta(days=30) + timedelta(seconds=left_s), now + timedelta(seconds=left_s)
    async with deps.db.session() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.user_id == user_id)
            .values(current_period_start=start, current_period_end=end)
        )
        await session.execute(
            update(LedgerGrant)
            .where(LedgerGrant.key.like(f"payment:{payment_id}:%"))
            .values(starts_at=start, expires_at=end)
        )


async def test_a_purchase_priced_before_a_renewal_settled_refunds_the_renewals_unused_part(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=6.0) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        await _month_nearly_over(pay_worker, buyer.user_id, first.id, 5.0)
        try:
            opened = await start_checkout(buyer, "plan:pro")  # priced now: no renewal yet
            renewed = await eventually(lambda: _granted_renewal(pay_worker, buyer.user_id), 30)
            back = await pay(
                emulator_base, opened["checkout_id"], SUCCESS, opened["widget"]["shopper_result_url"]
            )
            assert (await shopper_returns(buyer, back.headers["location"]))["status"] == "succeeded"
            decided = await eventually(lambda: _audit(pay_worker, opened["payment_id"], overlap.REFUNDED), 20)
        finally:
            await stop(client, buyer.user_id)
    assert opened["amount"] >= 4990  # the checkout's credit for the month nearly over: ≤ 10 fils
    amount = int(decided.details["amount_fils"])
    assert (
        decided.details["refund_payment_id"] == renewed.id and decided.details["refund_code"] == "000.100.110"
    )
    # the renewal's month was hardly used: its price (3 JOD) × time left, less the checkout's credit
    assert 2950 <= amount <= 3000 - (5000 - opened["amount"]) and amount % 10 == 0
    [debit] = await debits(wired, renewed.id)
    [refund] = await refunds_of(wired, debit["id"])
    assert refund["amount"] == f"{amount / 1000:.2f}"
    live = await live_plan_grants(pay_worker, buyer.user_id)
    assert {g.ref for g in live} == {"pro"}  # one plan's quota, never two at once
    assert await _audit(pay_worker, opened["payment_id"], overlap.OVERLAP) is not None


async def _granted_renewal(deps: worker_module.WorkerDeps, user_id: str) -> Payment | None:
    return next((p for p in await renewals(deps, user_id) if p.fulfilled_at is not None), None)


async def _audit(deps: worker_module.WorkerDeps, target_id: str, action: str) -> AuditLog | None:
    return next((a for a in await audit_actions(deps, target_id) if a.action == action), None)


async def test_a_plan_change_is_refused_while_a_renewal_is_charged_and_goes_through_after(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=8.0) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        registration = (await payment_row(pay_worker, first.id)).registration_id
        await wired.post("/config", json=HELD_PENDING)
        await wired.post(f"/registrations/{registration}/outcomes", json={"outcomes": ["pending"]})
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        try:
            charging = await eventually(lambda: renewal_with(pay_worker, buyer.user_id, "pending"))
            refused = await buyer.api.post(
                "/v1/subscription/change", json={"plan": "pro"}, headers=fresh_key()
            )
            await resolve_pending(wired, charging.id)  # the renewal settles after the refusal
            renewed = await eventually(lambda: _granted_renewal(pay_worker, buyer.user_id), 30)
            await eventually(lambda: _plan_is(handle, "starter"))  # the next period (8 s) is open
            changed = await buyer.api.post(
                "/v1/subscription/change", json={"plan": "pro"}, headers=fresh_key()
            )
        finally:
            await stop(client, buyer.user_id)
    assert refused.status_code == 409 and refused.json()["code"] == "change_in_progress"
    assert changed.status_code == 200, changed.text
    assert changed.json()["plan_id"] == "pro"
    assert len(await debits(wired, renewed.id)) == 1


async def test_a_renewal_due_during_an_upgrade_waits_for_it_and_renews_the_new_period(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=6.0) as url:
        await subscribe(buyer, url, emulator_base, plan="starter")
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        await eventually(lambda: _exists(handle))
        await wired.post("/config", json={"response_delay": 9.0})  # a slow HyperPay: period end passes
        try:
            changed = await buyer.api.post(
                "/v1/subscription/change", json={"plan": "pro"}, headers=fresh_key()
            )
            await wired.post("/config", json={"response_delay": 0.0})
            await asyncio.sleep(1.0)
            due = await renewals(pay_worker, buyer.user_id)
            state = await handle.query(SubscriptionWorkflow.state)
        finally:
            await stop(client, buyer.user_id)
    assert changed.status_code == 200, changed.text
    assert changed.json()["plan_id"] == "pro" and state.plan_id == "pro"
    assert due == []  # the old period's renewal was never charged: the upgrade moved it
    assert state.period_end > utcnow()
