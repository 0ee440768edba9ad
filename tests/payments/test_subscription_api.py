"""Renewals through the API against the emulator (second-long periods): a renewal that
succeeds; one that fails, goes through dunning and succeeds when support retries; a final
failure that moves the user to Free."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import select
from temporalio.client import Client

import worker as worker_module
from core.accounts import grant_role
from core.models import Payment
from core.models.ledger import LedgerGrant
from core.settings import Settings
from core.subscriptions import get_subscription
from tests.conftest import serve_app
from tests.payments.conftest import Shopper, pay
from tests.payments.test_checkout_api import SUCCESS, fresh_key, shopper_returns, start_checkout, wait_mail
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionWorkflow

DAY = 86400.0


@contextlib.asynccontextmanager
async def api_with(pay_settings: Settings, **timing: Any) -> AsyncIterator[str]:
    """The payments API with its own renewal timings (the session worker runs the workflows)."""
    async with serve_app(pay_settings.model_copy(update=timing), run_worker=False) as url:
        yield url


async def subscribe(buyer: Shopper, api_url: str, emulator_base: str, plan: str = "pro") -> Payment:
    buyer.api.base_url = httpx.URL(api_url)
    started = await start_checkout(buyer, f"plan:{plan}")
    back = await pay(emulator_base, started["checkout_id"], SUCCESS, started["widget"]["shopper_result_url"])
    assert (await shopper_returns(buyer, back.headers["location"]))["status"] == "succeeded"
    return Payment(id=started["payment_id"])


async def payment_row(deps: worker_module.WorkerDeps, payment_id: str) -> Payment:
    async with deps.db.session() as session:
        row = await session.get(Payment, payment_id)
    assert row is not None
    return row


async def renewals(deps: worker_module.WorkerDeps, user_id: str) -> list[Payment]:
    async with deps.db.session() as session:
        query = select(Payment).where(Payment.user_id == user_id, Payment.kind == "renewal")
        return list((await session.execute(query.order_by(Payment.created_at))).scalars())


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.2)


async def _exists(handle: Any) -> bool:
    try:
        await handle.describe()
    except Exception:  # noqa: BLE001 - not started yet
        return False
    return True


async def stop(client: Client, user_id: str) -> None:
    with contextlib.suppress(Exception):
        await client.get_workflow_handle(subscription_id(user_id)).terminate("test over")


async def test_renewal_succeeds_and_opens_the_next_period(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=2.0) as url:
        first = await subscribe(buyer, url, emulator_base)
        try:
            renewed = await eventually(lambda: _succeeded_renewal(pay_worker, buyer.user_id), timeout=20)
        finally:
            await stop(client, buyer.user_id)
    initial = await payment_row(pay_worker, first.id)
    assert renewed.amount_fils == 5000 and renewed.registration_id == initial.registration_id
    assert renewed.initial_transaction_id == initial.provider_payment_id and renewed.attempts == 1
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
        keys = list(
            (
                await session.execute(
                    select(LedgerGrant.key).where(LedgerGrant.key.like(f"payment:{renewed.id}%"))
                )
            ).scalars()
        )
    assert subscription is not None and subscription.plan_id == "pro" and subscription.status == "active"
    assert sorted(keys) == [f"payment:{renewed.id}:{unit}" for unit in ("images", "tokens", "videos")]


async def _succeeded_renewal(deps: worker_module.WorkerDeps, user_id: str) -> Payment | None:
    found = await renewals(deps, user_id)
    return next((p for p in found if p.status == "succeeded" and p.fulfilled_at is not None), None)


async def test_failed_renewal_goes_to_dunning_and_succeeds_when_support_retries(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer, agent = await shopper(), await shopper()
    async with pay_worker.db.session() as session:
        await grant_role(session, agent.email, "support")
    timing = {"payments_renewal_period_s": 3.0, "payments_dunning_days": [3600 / DAY, 7200 / DAY]}
    async with api_with(pay_settings, **timing) as url:
        agent.api.base_url = httpx.URL(url)
        first = await subscribe(buyer, url, emulator_base)
        registration = (await payment_row(pay_worker, first.id)).registration_id
        queued = await wired.post(
            f"/registrations/{registration}/outcomes", json={"outcomes": ["insufficient"]}
        )
        assert queued.status_code == 200
        try:
            failed = await eventually(lambda: _renewal_with(pay_worker, buyer.user_id, "failed"))
            assert failed.result_code == "800.100.155"
            mail = await wait_mail(buyer, "تعذّر تجديد اشتراكك")
            assert "المحترفة" in mail[0]["text"]
            async with pay_worker.db.session() as session:
                subscription = await get_subscription(session, buyer.user_id)
            assert subscription is not None and subscription.status == "past_due"
            listed = (await agent.api.get("/v1/admin/payments", params={"status": "failed"})).json()
            assert failed.id in [p["id"] for p in listed]
            assert (await buyer.api.post(f"/v1/admin/payments/{failed.id}/retry")).status_code == 403
            retried = await agent.api.post(
                f"/v1/admin/payments/{failed.id}/retry",
                json={"reason": "card topped up"},
                headers=fresh_key(),
            )
            assert retried.status_code == 200, retried.text
            assert retried.json() == {
                "payment_id": failed.id,
                "status": "succeeded",
                "result_code": "000.100.110",
            }
            again = await agent.api.post(f"/v1/admin/payments/{failed.id}/retry", headers=fresh_key())
            assert again.status_code == 409 and again.json()["code"] == "retry_not_possible"
        finally:
            await stop(client, buyer.user_id)
        audit = (await agent.api.get("/v1/admin/audit", params={"target": failed.id})).json()
        lookup = (await agent.api.get("/v1/admin/users", params={"email": buyer.email})).json()
    assert [(a["action"], a["actor_id"], a["reason"]) for a in audit] == [
        ("payment.retry", agent.user_id, "card topped up")
    ]
    paid = await payment_row(pay_worker, failed.id)
    assert paid.status == "succeeded" and paid.attempts == 2 and paid.fulfilled_at is not None
    assert lookup["plan_id"] == "pro" and lookup["subscription_status"] == "active"
    assert {p["id"] for p in lookup["payments"]} == {first.id, failed.id}
    assert lookup["usage"]["tokens"]["granted"] >= 1_000_000


async def _renewal_with(deps: worker_module.WorkerDeps, user_id: str, status: str) -> Payment | None:
    return next((p for p in await renewals(deps, user_id) if p.status == status), None)


async def test_final_renewal_failure_moves_the_user_to_free(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper(locale="en")
    timing = {"payments_renewal_period_s": 3.0, "payments_dunning_days": [0.5 / DAY, 1.0 / DAY]}
    async with api_with(pay_settings, **timing) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        registration = (await payment_row(pay_worker, first.id)).registration_id
        outcomes = {"outcomes": ["declined", "declined", "declined"]}
        assert (await wired.post(f"/registrations/{registration}/outcomes", json=outcomes)).status_code == 200
        try:
            handle = client.get_workflow_handle(subscription_id(buyer.user_id))
            await eventually(lambda: _exists(handle))
            result = await asyncio.wait_for(handle.result(), 30)
        finally:
            await stop(client, buyer.user_id)
        mails = await wait_mail(buyer, "moved to the Free plan")
    assert mails and "Starter" in mails[0]["text"]
    assert result == "ended"
    [renewal] = await renewals(pay_worker, buyer.user_id)
    assert renewal.status == "failed" and renewal.attempts == 3 and renewal.result_code == "800.100.152"
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
    assert (
        subscription is not None and subscription.plan_id == "free" and subscription.registration_id is None
    )


async def test_cancel_ends_the_plan_at_period_end_without_charging(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=3.0) as url:
        await subscribe(buyer, url, emulator_base, plan="starter")
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        await eventually(lambda: _exists(handle))
        cancelled = await buyer.api.post("/v1/subscription/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["cancel_at_period_end"] is True
        try:
            assert await asyncio.wait_for(handle.result(), 20) == "cancelled"
        finally:
            await stop(client, buyer.user_id)
        again = await buyer.api.post("/v1/subscription/cancel")
    assert again.status_code == 409 and again.json()["code"] == "no_subscription"
    assert await renewals(pay_worker, buyer.user_id) == []
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
    assert subscription is not None and subscription.plan_id == "free"


async def test_upgrade_is_charged_now_and_downgrade_waits_for_period_end(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=3600.0) as url:
        await subscribe(buyer, url, emulator_base, plan="starter")
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        await eventually(lambda: _exists(handle))
        try:
            upgraded = await buyer.api.post(
                "/v1/subscription/change", json={"plan": "creator"}, headers=fresh_key()
            )
            assert upgraded.status_code == 200, upgraded.text
            assert upgraded.json()["plan_id"] == "creator"
            downgraded = await buyer.api.post(
                "/v1/subscription/change", json={"plan": "starter"}, headers=fresh_key()
            )
            assert downgraded.status_code == 200 and downgraded.json()["plan_id"] == "creator"
            state = await handle.query(SubscriptionWorkflow.state)
            assert state.plan_id == "creator" and state.next_plan_id == "starter"
            refused = await buyer.api.post(
                "/v1/subscription/change", json={"plan": "free"}, headers=fresh_key()
            )
            assert refused.status_code == 409
        finally:
            await stop(client, buyer.user_id)
    async with pay_worker.db.session() as session:
        query = select(Payment).where(Payment.user_id == buyer.user_id, Payment.kind == "upgrade")
        [upgrade] = list((await session.execute(query)).scalars())
    # prorated: Creator's 7 JOD less the credit for Starter's almost unused month (3 JOD)
    assert upgrade.status == "succeeded" and upgrade.fulfilled_at is not None
    assert 4000 <= upgrade.amount_fils <= 4020 and upgrade.amount_fils % 10 == 0
