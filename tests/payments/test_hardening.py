"""Money defects of issue #15, each proven against the HyperPay emulator on the dev server:
a pending renewal charged twice (counted in the emulator's debits), a 3-D Secure payment that
succeeds after its checkout expired (a late webhook), a plan bought during dunning (the grants
after it), a double click on upgrade, manual review counted as paid, period drift and a row
lock held across a slow HyperPay call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, text
from temporalio.client import Client

import worker as worker_module
from activities.payments import FulfilInput, PaymentActivities
from core import payments
from core.accounts import get_or_create_user
from core.models import AuditLog, Payment, PaymentKind
from core.plans import get_plan
from core.settings import Settings
from core.subscriptions import get_subscription, set_plan
from providers.payments.hyperpay import CheckoutRequest, HyperPayClient
from tests.payments.conftest import Shopper, pay
from tests.payments.test_checkout_api import (
    HELD_PENDING,
    SUCCESS,
    THREE_DS,
    buy,
    fresh_key,
    grants_for,
    resolve_pending,
    shopper_returns,
    start_checkout,
    wait_status,
)
from tests.payments.test_pages import browser
from tests.payments.test_subscription_api import (
    DAY,
    _exists,
    api_with,
    eventually,
    payment_row,
    renewals,
    stop,
    subscribe,
)
from workflows import BACKGROUND
from workflows.payments_common import checkout_id, subscription_id
from workflows.subscription import SubscriptionInput, SubscriptionWorkflow


async def debits(control: httpx.AsyncClient, payment_id: str) -> list[dict[str, Any]]:
    """Successful debits the emulator took for a payment (its references are ``<id>-<n>``)."""
    rows = (await control.get("/payments")).json()
    return [
        p
        for p in rows
        if p["paymentType"] == "DB"
        and p["merchantTransactionId"].startswith(f"{payment_id}-")
        and p["result"]["code"] == "000.100.110"
    ]


async def test_a_pending_renewal_is_charged_once(
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
        queued = await wired.post(f"/registrations/{registration}/outcomes", json={"outcomes": ["pending"]})
        assert queued.status_code == 200
        try:
            renewed = await eventually(lambda: _fulfilled_renewal(pay_worker, buyer.user_id), timeout=25)
        finally:
            await stop(client, buyer.user_id)
    # every debit HyperPay was asked for, settled or not: a second one is made before the grant
    rows, ref = (await wired.get("/payments")).json(), f"{renewed.id}-"
    asked = [p for p in rows if p["paymentType"] == "DB" and p["merchantTransactionId"].startswith(ref)]
    assert len(asked) == 1 and len(await debits(wired, renewed.id)) == 1
    assert renewed.attempts == 1


async def _fulfilled_renewal(deps: worker_module.WorkerDeps, user_id: str) -> Payment | None:
    found = await renewals(deps, user_id)
    return next((p for p in found if p.status == "succeeded" and p.fulfilled_at is not None), None)


async def test_a_payment_that_succeeds_after_its_checkout_expired_is_granted_once(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    await wired.post("/config", json=HELD_PENDING)
    timing = {"payments_checkout_timeout_s": 1.0, "payments_return_wait_s": 0.2}
    async with api_with(pay_settings, **timing) as url:
        buyer.api.base_url = httpx.URL(url)
        started = await start_checkout(buyer, "addon:images_10")
        back = await pay(
            emulator_base, started["checkout_id"], THREE_DS, started["widget"]["shopper_result_url"]
        )
        await shopper_returns(buyer, back.headers["location"])
        await wait_status(buyer, started["payment_id"], "expired", timeout=30)
        await resolve_pending(wired, started["payment_id"])  # the bank says yes after the expiry
        paid = await wait_status(buyer, started["payment_id"], "succeeded", timeout=30)  # the late webhook
        [provider_payment] = await debits(wired, started["payment_id"])
        replayed = await wired.post(f"/webhooks/{provider_payment['id']}/replay", params={"times": 2})
        assert replayed.status_code == 200  # delivered and answered: the replays have been handled
        await client.get_workflow_handle(checkout_id(started["payment_id"])).result()  # and the run ended
    assert paid["fulfilled"] is True
    assert len(await grants_for(pay_worker, started["payment_id"])) == 1
    async with pay_worker.db.session() as session:
        audit = (
            await session.execute(select(AuditLog).where(AuditLog.target_id == started["payment_id"]))
        ).scalars()
        assert [a.action for a in audit] == ["payment.late_grant"]


async def test_a_late_plan_payment_is_refunded_when_a_later_plan_was_granted(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    await wired.post("/config", json=HELD_PENDING)
    timing = {"payments_checkout_timeout_s": 1.0, "payments_return_wait_s": 0.2}
    async with api_with(pay_settings, **timing) as url:
        buyer.api.base_url = httpx.URL(url)
        late = await start_checkout(buyer, "plan:starter")
        back = await pay(emulator_base, late["checkout_id"], THREE_DS, late["widget"]["shopper_result_url"])
        await shopper_returns(buyer, back.headers["location"])
        await wait_status(buyer, late["payment_id"], "expired", timeout=30)
        try:
            await buy(buyer, emulator_base, "plan:pro")  # gave up and paid again: granted
            await resolve_pending(wired, late["payment_id"])  # then the first one succeeds
            refunded = await wait_status(buyer, late["payment_id"], "refunded", timeout=30)
        finally:
            await stop(client, buyer.user_id)
    assert refunded["fulfilled"] is False
    rows = (await wired.get("/payments")).json()
    refunds = [
        p
        for p in rows
        if p["paymentType"] == "RF" and p["merchantTransactionId"].startswith(late["payment_id"])
    ]
    assert len(refunds) == 1 and refunds[0]["amount"] == "3.00"
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
        audit = (
            await session.execute(select(AuditLog).where(AuditLog.target_id == late["payment_id"]))
        ).scalars()
        assert [a.action for a in audit] == ["payment.late_refund"]
    assert subscription is not None and subscription.plan_id == "pro"


async def test_a_plan_bought_while_a_late_payment_is_decided_is_kept(
    pay_settings: Settings,
    emulator_base: str,
    control: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
) -> None:
    """The late decision and its grant are one step under the plan lock: a plan granted just
    after a late Starter was decided (before its workflow's ``fulfil``) stays the plan, and it is
    the late one's unused part that is refunded. Deciding first and granting later put the late
    Starter over the newer Pro and refunded Pro. The activities run in that order by hand (no
    webhook URL is configured, so no workflow joins in)."""
    hyperpay = HyperPayClient.from_settings(pay_settings)
    acts = PaymentActivities(pay_settings, pay_worker.db, hyperpay)
    async with pay_worker.db.session() as session:
        user = await get_or_create_user(session, f"late-{uuid.uuid4().hex[:8]}@example.com", "en")
    try:
        late = await _paid(acts, emulator_base, user.id, "starter")  # its checkout expired meanwhile
        later = await _paid(acts, emulator_base, user.id, "pro")  # verified, not granted yet
        decided = await acts.late_decision(late.id)  # Pro is not granted yet: Starter is
        await acts.fulfil(FulfilInput(later.id))
        await acts.fulfil(FulfilInput(late.id))  # the late run's own fulfil, after the decision
        again = await acts.late_decision(late.id)  # a retried decision
    finally:
        await hyperpay.aclose()
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, user.id)
        entries = (await session.execute(select(AuditLog).where(AuditLog.target_id == late.id))).scalars()
        late_audit = [a.action for a in entries]
    assert subscription is not None and subscription.plan_id == "pro"
    rows = (await control.get("/payments")).json()
    refunded = [p["merchantTransactionId"] for p in rows if p["paymentType"] == "RF"]
    assert [r.startswith(late.id) for r in refunded] == [True]  # Starter's unused part, not Pro
    assert decided == again == "grant" and late_audit == ["payment.late_grant"]


async def _paid(acts: PaymentActivities, emulator_base: str, user_id: str, plan: str) -> Payment:
    """A plan payment HyperPay has taken and we have verified, not granted."""
    async with acts.db.session() as session:
        item = payments.Item(PaymentKind.plan, plan, get_plan(plan).price_fils)
        payment = await payments.create_payment(session, user_id, item)
    created = await acts.create_checkout(payment.id)
    await pay(emulator_base, created.checkout_id, SUCCESS)
    assert (await acts.verify_checkout(payment.id)).status == "succeeded"
    return payment


async def test_buying_a_plan_during_dunning_ends_dunning_and_keeps_the_new_plan(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    timing = {"payments_renewal_period_s": 2.0, "payments_dunning_days": [2.5 / DAY, 5.0 / DAY]}
    async with api_with(pay_settings, **timing) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        registration = (await payment_row(pay_worker, first.id)).registration_id
        await wired.post(f"/registrations/{registration}/outcomes", json={"outcomes": ["declined"] * 3})
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        try:
            failed = await eventually(lambda: _renewal_with(pay_worker, buyer.user_id, "failed"))
            await subscribe(buyer, url, emulator_base, plan="pro")
            await asyncio.sleep(3.5)  # past the first dunning retry
            state = await handle.query(SubscriptionWorkflow.state)
        finally:
            await stop(client, buyer.user_id)
    assert state.plan_id == "pro" and state.status == "active"
    old = await payment_row(pay_worker, failed.id)
    assert old.status == "failed" and old.attempts == 1  # the old renewal was not charged again
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
    assert subscription is not None and subscription.plan_id == "pro" and subscription.status == "active"


async def _renewal_with(deps: worker_module.WorkerDeps, user_id: str, status: str) -> Payment | None:
    return next((p for p in await renewals(deps, user_id) if p.status == status), None)


async def test_a_double_click_upgrades_and_checks_out_once(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=3600.0) as url:
        key = fresh_key()
        both = await asyncio.gather(
            *(
                buyer.api.post("/v1/payments/checkout", json={"item": "addon:video_1"}, headers=key)
                for _ in "ab"
            )
        )
        assert [r.status_code for r in both] == [201, 201]
        assert both[0].json()["payment_id"] == both[1].json()["payment_id"]
        missing = await buyer.api.post("/v1/payments/checkout", json={"item": "addon:video_1"})
        assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
        await subscribe(buyer, url, emulator_base, plan="starter")
        handle = client.get_workflow_handle(subscription_id(buyer.user_id))
        await eventually(lambda: _exists(handle))
        before = (await wired.get("/calls")).json().get("registration_payments", 0)
        try:
            await wired.post("/config", json={"response_delay": 3.0})  # the other clicks land meanwhile
            key = fresh_key()
            first = asyncio.create_task(
                buyer.api.post("/v1/subscription/change", json={"plan": "pro"}, headers=key)
            )
            await eventually(lambda: _charges_since(wired, before))  # the first click is at HyperPay
            double, other = await asyncio.gather(
                buyer.api.post("/v1/subscription/change", json={"plan": "pro"}, headers=key),
                buyer.api.post("/v1/subscription/change", json={"plan": "creator"}, headers=fresh_key()),
            )
            clicked = await first
            again = await buyer.api.post("/v1/subscription/change", json={"plan": "pro"}, headers=key)
        finally:
            await wired.post("/config", json={"response_delay": 0.0})
            await stop(client, buyer.user_id)
    assert clicked.status_code == 200 and clicked.json()["plan_id"] == "pro", clicked.text
    assert double.status_code == 200 and double.json()["plan_id"] == "pro", double.text
    assert other.status_code == 409 and other.json()["code"] == "change_in_progress", other.text
    assert again.status_code == 200 and again.json()["plan_id"] == "pro"
    after = (await wired.get("/calls")).json().get("registration_payments", 0)
    async with pay_worker.db.session() as session:
        query = select(Payment).where(Payment.user_id == buyer.user_id, Payment.kind == "upgrade")
        upgrades = list((await session.execute(query)).scalars())
    assert [(u.item_id, u.status) for u in upgrades] == [("pro", "succeeded")]
    assert after - before == 1


async def _charges_since(control: httpx.AsyncClient, before: int) -> bool:
    return int((await control.get("/calls")).json().get("registration_payments", 0)) > before


async def test_manual_review_waits_for_the_final_result(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    async with api_with(pay_settings, payments_renewal_period_s=1.5) as url:
        first = await subscribe(buyer, url, emulator_base, plan="starter")
        registration = (await payment_row(pay_worker, first.id)).registration_id
        await wired.post(f"/registrations/{registration}/outcomes", json={"outcomes": ["review"]})
        try:
            renewal = await eventually(lambda: _renewal_with(pay_worker, buyer.user_id, "pending"))
            await asyncio.sleep(1.5)
            renewal = await payment_row(pay_worker, renewal.id)
        finally:
            await stop(client, buyer.user_id)
    assert renewal.status == "pending" and renewal.fulfilled_at is None and renewal.attempts == 1
    assert len(await debits(wired, renewal.id)) == 0


async def test_a_renewal_keeps_the_day_of_month_of_its_first_period(
    pay_settings: Settings,
    pay_worker: worker_module.WorkerDeps,
    emulator_base: str,
    control: httpx.AsyncClient,
    client: Client,
) -> None:
    async with pay_worker.db.session() as session:
        user = await get_or_create_user(session, f"anchor-{uuid.uuid4().hex[:8]}@example.com", "en")
        await set_plan(session, user.id, "starter", key=f"test:{user.id}")
    hyperpay = HyperPayClient.from_settings(pay_settings)
    created = await hyperpay.prepare_checkout(
        CheckoutRequest(3000, f"init-{user.id}", user.email, create_registration=True)
    )
    await pay(emulator_base, created.id, SUCCESS)
    initial = await hyperpay.payment_status(created.id)
    await hyperpay.aclose()
    anchor = datetime(2026, 10, 31, 9, 0, tzinfo=UTC)  # renewed Nov 30 (due now), next Dec 31
    handle = await client.start_workflow(
        SubscriptionWorkflow.run,
        SubscriptionInput(
            user_id=user.id,
            plan_id="starter",
            period_end=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
            registration_id=initial.registration_id,
            initial_transaction_id=initial.id,
            retry_initial_s=0.2,
            anchor=anchor,
        ),
        id=subscription_id(user.id),
        task_queue=pay_settings.task_queue(BACKGROUND),
    )
    try:
        renewed = await eventually(lambda: _fulfilled_renewal(pay_worker, user.id))
        state = await eventually(lambda: _state_after(handle, renewed))
    finally:
        await stop(client, user.id)
    assert state.period_end == datetime(2026, 12, 31, 9, 0, tzinfo=UTC)
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, user.id)
    assert subscription is not None and subscription.current_period_end == datetime(
        2026, 12, 31, 9, 0, tzinfo=UTC
    )


async def _state_after(handle: Any, renewed: Payment) -> Any:
    state = await handle.query(SubscriptionWorkflow.state)
    return state if state.period_end > datetime(2026, 12, 1, tzinfo=UTC) else None


async def test_no_transaction_stays_open_across_a_slow_hyperpay_call(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
    pg_url: str,
) -> None:
    buyer = await shopper()
    await wired.post("/config", json={"response_delay": 1.5})
    idle: list[Any] = []

    async def watch() -> None:
        deadline = datetime.now(UTC) + timedelta(seconds=1.4)
        while datetime.now(UTC) < deadline:
            async with pay_worker.db.session() as session:
                found = await session.execute(
                    text(
                        "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'idle in transaction' AND query ILIKE '%payment%' "
                        "AND now() - state_change > interval '300 milliseconds'"
                    )
                )
                idle.extend(found.scalars())
            await asyncio.sleep(0.1)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(start_checkout(buyer, "addon:images_10"))
            await asyncio.sleep(0.3)
            group.create_task(watch())
    finally:
        await wired.post("/config", json={"response_delay": 0.0})
    assert idle == []


async def test_the_return_page_needs_the_owner_or_its_signed_link_and_the_webhook_is_bounded(
    shopper: Callable[..., Awaitable[Shopper]], pay_settings: Settings, wired: httpx.AsyncClient
) -> None:
    buyer, other = await shopper(), await shopper()
    timing = {
        "payments_return_wait_s": 0.2,
        "rate_limit_webhook_ip": "3/minute",
        "payments_webhook_max_bytes": 1024,
    }
    async with api_with(pay_settings, **timing) as url:
        buyer.api.base_url = other.api.base_url = httpx.URL(url)
        started = await start_checkout(buyer, "addon:images_10")
        signed = httpx.URL(started["widget"]["shopper_result_url"])
        json_accept = {"Accept": "application/json"}
        async with httpx.AsyncClient(base_url=url, headers=json_accept) as anonymous:
            bare = await anonymous.get("/billing/return", params={"payment": started["payment_id"]})
            forged = await anonymous.get(
                "/billing/return", params={"payment": started["payment_id"], "sig": "0" * 32}
            )
            by_link = await anonymous.get(signed.path, params=dict(signed.params))
            too_big = await anonymous.post("/v1/payments/webhook/hyperpay", content=b"A" * 4096)
            flood = [
                (await anonymous.post("/v1/payments/webhook/hyperpay", content=b"00")).status_code
                for _ in range(3)
            ]
        by_owner = await buyer.api.get(
            "/billing/return", params={"payment": started["payment_id"]}, headers=json_accept
        )
        by_other = await other.api.get(
            "/billing/return", params={"payment": started["payment_id"]}, headers=json_accept
        )
    assert bare.status_code == forged.status_code == by_other.status_code == 404
    assert bare.json()["code"] == "payment_not_found"
    assert by_link.status_code == by_owner.status_code == 200
    assert by_link.json()["payment_id"] == started["payment_id"]
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large"
    assert flood == [400, 400, 429]


async def test_an_upgrade_is_credited_for_the_unused_period_and_the_billing_page_says_so(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    emulator_base: str,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    """Decision for #15 item 6: upgrade now, credit for the unused part of the paid period."""
    buyer = await shopper(locale="en")
    async with api_with(pay_settings, payments_renewal_period_s=3600.0) as url:
        try:
            await subscribe(buyer, url, emulator_base, plan="starter")
            quote = (await buyer.api.get("/v1/subscription/quote", params={"plan": "pro"})).json()
            assert quote["price"] == 5000 and 2980 <= quote["credit"] <= 3000
            assert quote["amount"] == 5000 - quote["credit"]
            async with browser(buyer) as tab:
                page = await tab.get("/billing", params={"lang": "en"})
            assert 'data-testid="proration-pro"' in page.text and "Credit for the unused part" in page.text
            started = await start_checkout(buyer, "plan:pro")
        finally:
            await stop(client, buyer.user_id)
    assert started["amount"] == quote["amount"]  # the checkout charges the credited amount


async def test_every_paid_period_has_its_renewal_workflow(
    shopper: Callable[..., Awaitable[Shopper]],
    pay_settings: Settings,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    """#15 item 5: support's set-plan starts (or ends) the workflow; a missing one is repaired."""
    from core.accounts import grant_role
    from workflows.subscription_client import has_workflow, repair_once

    person, agent, forgotten = await shopper(), await shopper(), await shopper()
    async with pay_worker.db.session() as session:
        await grant_role(session, agent.email, "support")
    set_plan_path = f"/v1/admin/users/{person.user_id}/plan"
    try:
        given = await agent.api.post(set_plan_path, json={"plan_id": "pro", "reason": "goodwill"})
        assert given.status_code == 200, given.text
        assert await has_workflow(client, person.user_id)
        state = await client.get_workflow_handle(subscription_id(person.user_id)).query(
            SubscriptionWorkflow.state
        )
        assert state.plan_id == "pro"
        freed = await agent.api.post(set_plan_path, json={"plan_id": "free", "reason": "back to free"})
        assert freed.status_code == 200 and not await has_workflow(client, person.user_id)
        async with pay_worker.db.session() as session:  # a paid plan set behind the workflows' back
            await set_plan(session, forgotten.user_id, "starter", key=f"test:{forgotten.user_id}")
        # what `pulse worker`'s repair loop runs every PULSE_SUBSCRIPTION_REPAIR_INTERVAL_SECONDS
        assert forgotten.user_id in await repair_once(client, pay_settings, pay_worker.db)
        assert await has_workflow(client, forgotten.user_id)
        assert forgotten.user_id not in await repair_once(client, pay_settings, pay_worker.db)
    finally:
        for someone in (person, forgotten):
            await stop(client, someone.user_id)
