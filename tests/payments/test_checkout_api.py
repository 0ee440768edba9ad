"""Checkouts through the API against the HyperPay emulator: success, decline, 3-D Secure
pending → success, webhook + return together with replays (one grant), tampered webhooks."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.client import Client

import worker as worker_module
from core.models import Payment, WebhookEvent
from core.models.ledger import LedgerGrant
from core.subscriptions import get_subscription
from emulator.hyperpay import encrypt
from tests.payments.conftest import API_WEBHOOK_SECRET, Shopper, pay
from workflows import PULSE_JOB_STATUS, PULSE_USER_ID
from workflows.payments_common import checkout_id

SUCCESS, DECLINED, THREE_DS = "4200000000000000", "4000000000000002", "4000000000003063"
# emulator timings that keep 3-D Secure payments pending until ``resolve_pending``: a late
# success lands after what must come first, however slow the machine
HELD_PENDING = {"pending_seconds": 3600.0, "pending_reads": 1000}


def fresh_key() -> dict[str, str]:
    """A new Idempotency-Key header (one per money-moving intent)."""
    return {"Idempotency-Key": uuid.uuid4().hex}


async def start_checkout(shopper: Shopper, item: str) -> dict[str, Any]:
    response = await shopper.api.post("/v1/payments/checkout", json={"item": item}, headers=fresh_key())
    assert response.status_code == 201, response.text
    return dict(response.json())


async def shopper_returns(shopper: Shopper, location: str) -> dict[str, Any]:
    """Follow HyperPay's redirect to our /billing/return (as JSON)."""
    url = httpx.URL(location)
    response = await shopper.api.get(
        url.path, params=dict(url.params), headers={"Accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def wait_status(shopper: Shopper, payment_id: str, wanted: str, timeout: float = 15) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            body = (await shopper.api.get(f"/v1/payments/{payment_id}")).json()
            if body["status"] == wanted and (wanted != "succeeded" or body["fulfilled"]):
                return dict(body)
            await asyncio.sleep(0.1)


async def buy(buyer: Shopper, emulator_base: str, item: str) -> str:
    """Check out ``item`` with a card that succeeds and wait until it is granted (the return
    page may answer before the bank has: some APIs here wait only 0.2 s); its payment id."""
    started = await start_checkout(buyer, item)
    back = await pay(emulator_base, started["checkout_id"], SUCCESS, started["widget"]["shopper_result_url"])
    await shopper_returns(buyer, back.headers["location"])
    await wait_status(buyer, started["payment_id"], "succeeded", timeout=30)
    return str(started["payment_id"])


async def resolve_pending(control: httpx.AsyncClient, payment_id: str) -> None:
    """HyperPay's pending (3-D Secure) debit of ``payment_id`` succeeds now and its webhook is
    sent: with ``pending_seconds`` out of reach, a test decides when a late payment lands."""
    rows = (await control.get("/payments")).json()
    ref = f"{payment_id}-"
    [debit] = [p for p in rows if p["paymentType"] == "DB" and p["merchantTransactionId"].startswith(ref)]
    resolved = await control.post(f"/payments/{debit['id']}/resolve")
    assert resolved.status_code == 200, resolved.text


async def grants_for(deps: worker_module.WorkerDeps, payment_id: str) -> list[LedgerGrant]:
    async with deps.db.session() as session:
        query = select(LedgerGrant).where(LedgerGrant.key.like(f"payment:{payment_id}%"))
        return list((await session.execute(query)).scalars())


async def test_plan_checkout_success_grants_the_plan_and_emails_a_receipt(
    shopper: Callable[..., Awaitable[Shopper]],
    emulator_base: str,
    pay_worker: worker_module.WorkerDeps,
    client: Client,
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "plan:pro")
    assert started["amount"] == 5000 and started["widget"]["brands"] == "VISA MASTER"
    assert started["widget"]["script_url"].endswith(f"paymentWidgets.js?checkoutId={started['checkout_id']}")
    back = await pay(emulator_base, started["checkout_id"], SUCCESS, started["widget"]["shopper_result_url"])
    result = await shopper_returns(buyer, back.headers["location"])
    assert result == {
        "payment_id": started["payment_id"],
        "status": "succeeded",
        "result_code": "000.100.110",
    }
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
        payment = await session.get(Payment, started["payment_id"])
    assert subscription is not None and subscription.plan_id == "pro" and subscription.registration_id
    assert payment is not None and payment.initial_transaction_id and payment.card_last4 == "0000"
    grants = await grants_for(pay_worker, started["payment_id"])
    assert sorted((g.unit, g.amount) for g in grants) == [
        ("images", 60),
        ("tokens", 1_000_000),
        ("videos", 2),
    ]
    history = (await buyer.api.get("/v1/payments/history")).json()
    assert [(p["id"], p["status"]) for p in history] == [(started["payment_id"], "succeeded")]
    assert "د.أ" in history[0]["amount_display"]
    described = await client.get_workflow_handle(checkout_id(started["payment_id"])).describe()
    attributes = described.typed_search_attributes
    assert attributes[PULSE_JOB_STATUS] == "succeeded" and attributes[PULSE_USER_ID] == buyer.user_id
    mail = await wait_mail(buyer, "تم استلام دفعتك")
    assert "5.000" in mail[0]["subject"] or "٥" in mail[0]["subject"]
    assert started["payment_id"] in mail[0]["text"] and "المحترفة" in mail[0]["text"]


async def wait_mail(buyer: Shopper, needle: str, timeout: float = 15) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while True:
            mails = (await buyer.api.get("/dev/mailbox.json", params={"to": buyer.email})).json()
            found = [m for m in mails if needle in json.dumps(m, ensure_ascii=False)]
            if found:
                return list(found)
            await asyncio.sleep(0.2)


async def test_declined_card_records_the_code_and_grants_nothing(
    shopper: Callable[..., Awaitable[Shopper]], emulator_base: str, pay_worker: worker_module.WorkerDeps
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "plan:starter")
    back = await pay(emulator_base, started["checkout_id"], DECLINED, started["widget"]["shopper_result_url"])
    result = await shopper_returns(buyer, back.headers["location"])
    assert result["status"] == "failed" and result["result_code"] == "800.100.152"
    assert await grants_for(pay_worker, started["payment_id"]) == []
    async with pay_worker.db.session() as session:
        subscription = await get_subscription(session, buyer.user_id)
    assert subscription is None or subscription.plan_id == "free"
    url = httpx.URL(back.headers["location"])
    page = await buyer.api.get(url.path, params=dict(url.params))
    assert page.status_code == 303 and page.headers["location"] == f"/billing?payment={started['payment_id']}"


async def test_three_d_secure_pending_then_success(
    shopper: Callable[..., Awaitable[Shopper]], emulator_base: str, pay_worker: worker_module.WorkerDeps
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "addon:images_10")
    back = await pay(emulator_base, started["checkout_id"], THREE_DS, started["widget"]["shopper_result_url"])
    url = httpx.URL(back.headers["location"])
    first = await buyer.api.get(url.path, params=dict(url.params), headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.json()["status"] in ("pending", "succeeded")
    done = await wait_status(buyer, started["payment_id"], "succeeded")
    assert done["result_code"] == "000.100.110"
    grants = await grants_for(pay_worker, started["payment_id"])
    assert [(g.unit, g.amount, g.source) for g in grants] == [("images", 10, "addon")]


async def test_webhook_and_return_together_and_five_replays_grant_once(
    shopper: Callable[..., Awaitable[Shopper]],
    emulator_base: str,
    wired: httpx.AsyncClient,
    pay_worker: worker_module.WorkerDeps,
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "addon:tokens_200k")
    back = await pay(emulator_base, started["checkout_id"], SUCCESS, started["widget"]["shopper_result_url"])
    # the webhook is on its way while the shopper's browser comes back
    result = await shopper_returns(buyer, back.headers["location"])
    assert result["status"] == "succeeded"
    provider_id = next(p["id"] for p in (await wired.get("/payments")).json() if p["paymentType"] == "DB")
    replayed = await wired.post(f"/webhooks/{provider_id}/replay", params={"times": 5})
    assert replayed.json() == {"sent": 5}
    await shopper_returns(buyer, back.headers["location"])  # and the shopper reloads the page
    await asyncio.sleep(0.5)
    grants = await grants_for(pay_worker, started["payment_id"])
    assert [(g.unit, g.amount) for g in grants] == [("tokens", 200_000)]
    async with pay_worker.db.session() as session:
        events = list(
            (
                await session.execute(
                    select(WebhookEvent).where(WebhookEvent.payment_id == started["payment_id"])
                )
            ).scalars()
        )
    assert len(events) == 1 and events[0].deliveries >= 6 and events[0].result_code == "000.100.110"
    assert events[0].payload["payload"]["merchantTransactionId"] == f"{started['payment_id']}-1"
    deliveries = (await wired.get("/webhooks")).json()
    assert all(d["status"] == 200 for d in deliveries) and len(deliveries) >= 6


async def test_tampered_webhook_is_refused_and_changes_nothing(
    shopper: Callable[..., Awaitable[Shopper]], pay_api: str, pay_worker: worker_module.WorkerDeps
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "addon:video_1")
    forged = {
        "type": "PAYMENT",
        "payload": {
            "id": "f" * 32,
            "paymentType": "DB",
            "amount": "1.00",
            "currency": "JOD",
            "merchantTransactionId": f"{started['payment_id']}-1",
            "result": {"code": "000.100.110", "description": "forged"},
        },
    }
    body, iv, tag = encrypt(API_WEBHOOK_SECRET, json.dumps(forged).encode())
    tampered = ("1" if body[0] != "1" else "2") + body[1:]
    async with pay_worker.db.session() as session:
        events_before = (await session.execute(select(func.count()).select_from(WebhookEvent))).scalar_one()
    async with httpx.AsyncClient(base_url=pay_api) as anonymous:
        headers = {"X-Initialization-Vector": iv, "X-Authentication-Tag": tag}
        refused = await anonymous.post("/v1/payments/webhook/hyperpay", content=tampered, headers=headers)
        wrong_key_body, wrong_iv, wrong_tag = encrypt("22" * 32, json.dumps(forged).encode())
        wrong_key = await anonymous.post(
            "/v1/payments/webhook/hyperpay",
            content=wrong_key_body,
            headers={"X-Initialization-Vector": wrong_iv, "X-Authentication-Tag": wrong_tag},
        )
        no_headers = await anonymous.post("/v1/payments/webhook/hyperpay", content=body)
    for response in (refused, wrong_key, no_headers):
        assert response.status_code == 400 and response.json()["code"] == "invalid_webhook"
    assert refused.json()["message"] == "تعذّر التحقق من الإشعار."
    async with pay_worker.db.session() as session:
        events_after = (await session.execute(select(func.count()).select_from(WebhookEvent))).scalar_one()
        payment = await session.get(Payment, started["payment_id"])
    assert events_after == events_before
    assert payment is not None and payment.status == "pending" and payment.fulfilled_at is None
    assert await grants_for(pay_worker, started["payment_id"]) == []


async def test_checkout_validation_and_scoping(
    shopper: Callable[..., Awaitable[Shopper]], pay_api: str
) -> None:
    buyer, other = await shopper(), await shopper()
    for item in ("plan:free", "plan:nope", "addon:", "tokens"):
        refused = await buyer.api.post("/v1/payments/checkout", json={"item": item}, headers=fresh_key())
        assert refused.status_code == 422 and refused.json()["code"] == "unknown_item", item
    started = await start_checkout(buyer, "addon:images_10")
    assert (await other.api.get(f"/v1/payments/{started['payment_id']}")).status_code == 404
    mada = await buyer.api.post(
        "/v1/payments/checkout", json={"item": "addon:video_1", "brand": "mada"}, headers=fresh_key()
    )
    assert mada.status_code == 201 and mada.json()["widget"]["brands"] == "MADA"
    async with httpx.AsyncClient(base_url=pay_api) as anonymous:
        assert (await anonymous.post("/v1/payments/checkout", json={"item": "plan:pro"})).status_code == 401
