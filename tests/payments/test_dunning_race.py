"""Support's "retry payment" racing the workflow's own dunning retry, and a plan purchase (#15),
on the dev server with seconds for days (durations are inputs) and the HyperPay emulator
answering charges slowly, so the click lands while the scheduled charge is at HyperPay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.client import Client

import worker as worker_module
from core.accounts import grant_role
from core.models import PaymentAttempt
from core.settings import Settings
from core.subscriptions import get_subscription
from tests.payments.conftest import Shopper
from tests.payments.test_checkout_api import fresh_key, grants_for
from tests.payments.test_hardening import debits
from tests.payments.test_renewal_race import audit_actions, keep_first_run, renewal_with
from tests.payments.test_subscription_api import DAY, api_with, eventually, payment_row, stop, subscribe
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionWorkflow

SLOW_S = 1.2  # every registration charge takes this long at the emulator


async def _charges(control: httpx.AsyncClient) -> int:
    return int((await control.get("/calls")).json().get("registration_payments", 0))


async def _charging(control: httpx.AsyncClient, number: int) -> bool:
    return await _charges(control) >= number


async def _retry(agent: Shopper, payment_id: str) -> dict[str, Any]:
    response = await agent.api.post(
        f"/v1/admin/payments/{payment_id}/retry", json={"reason": "card topped up"}, headers=fresh_key()
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_support_retry_during_the_scheduled_dunning_charge_is_answered_by_it(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    """Two clicks while the first scheduled retry is at HyperPay join that attempt: no charge of
    their own, and no extra one after it (the next try waits for its offset, as ``system``); the
    renewal is debited once and granted once when the second scheduled retry succeeds."""
    buyer, agent = await shopper(), await shopper()
    async with pay_worker.db.session() as session:
        await grant_role(session, agent.email, "support")
    timing = {"payments_renewal_period_s": 2.0, "payments_dunning_days": [1.5 / DAY, 3.0 / DAY]}
    async with api_with(pay_settings, **timing) as url:
        agent.api.base_url = httpx.URL(url)
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        registration = (await payment_row(pay_worker, first.id)).registration_id
        outcomes = {"outcomes": ["declined", "declined", "success"]}
        await wired.post(f"/registrations/{registration}/outcomes", json=outcomes)
        await wired.post("/config", json={"response_delay": SLOW_S})
        try:
            failed = await eventually(lambda: renewal_with(pay_worker, buyer.user_id, "failed"))
            await eventually(lambda: _charging(wired, 2))  # the scheduled retry is at HyperPay
            answers = await asyncio.gather(_retry(agent, failed.id), _retry(agent, failed.id))
            renewed = await eventually(lambda: renewal_with(pay_worker, buyer.user_id, "succeeded"), 15)
            state = await eventually(lambda: _active(client, buyer.user_id))
            await keep_first_run(client, subscription_id(buyer.user_id), "dunning-retry-joined")
        finally:
            await stop(client, buyer.user_id)
            await wired.post("/config", json={"response_delay": 0})
    assert list(answers) == [{"payment_id": failed.id, "status": "failed", "result_code": "800.100.152"}] * 2
    # the clicks were answered by the scheduled attempt; the next one waited for its offset (the
    # old code charged again at once, on the support agent's behalf)
    assert [a.actor for a in await _attempts(pay_worker, failed.id)] == ["system"] * 3
    renewed = await payment_row(pay_worker, renewed.id)  # granted by now (the workflow is active)
    assert renewed.id == failed.id and renewed.attempts == 3 and renewed.fulfilled_at is not None
    assert len(await debits(wired, renewed.id)) == 1
    assert {g.unit for g in await grants_for(pay_worker, renewed.id)} == {"tokens", "images"}
    assert len(await grants_for(pay_worker, renewed.id)) == 2  # one grant per unit, once
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
    assert subscription is not None and subscription.status == "active" and subscription.plan_id == "starter"
    assert state.status == "active" and state.plan_id == "starter"
    retries = [a for a in await audit_actions(pay_worker, failed.id) if a.action == "payment.retry"]
    assert [a.details["status"] for a in retries] == ["failed", "failed"]


async def _attempts(deps: worker_module.WorkerDeps, payment_id: str) -> list[PaymentAttempt]:
    async with deps.db.session() as session:
        query = select(PaymentAttempt).where(PaymentAttempt.payment_id == payment_id)
        return list((await session.execute(query.order_by(PaymentAttempt.number))).scalars())


async def _active(client: Client, user_id: str) -> Any:
    try:
        state = await client.get_workflow_handle(subscription_id(user_id)).query(SubscriptionWorkflow.state)
    except Exception:  # noqa: BLE001 - between runs (continue-as-new)
        return None
    return state if state.status == "active" and not state.failed_payment_id else None
