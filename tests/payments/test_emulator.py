"""The HyperPay emulator through our client: checkouts, test cards, status rules, query,
registrations (MIT), refunds, encrypted webhooks with retries, the widget."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from providers.payments.hyperpay import (
    CheckoutRequest,
    HyperPayClient,
    HyperPayUnavailable,
    ResultClass,
    decrypt_webhook,
    parse_webhook,
)
from tests.payments.conftest import WEBHOOK_SECRET, Receiver, pay


def checkout_request(reference: str, fils: int = 3000, *, register: bool = False) -> CheckoutRequest:
    return CheckoutRequest(
        amount_fils=fils,
        merchant_transaction_id=reference,
        email="a@example.com",
        create_registration=register,
    )


async def wait_for(predicate: object, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_successful_checkout_is_single_use_and_found_by_query(
    hyperpay: HyperPayClient, emulator_base: str
) -> None:
    created = await hyperpay.prepare_checkout(checkout_request("pay-1-a1"))
    assert created.code == "000.200.100" and created.id.endswith(".uat01-vm-tx04")
    before = await hyperpay.payment_status(created.id)
    assert before.result_class is ResultClass.pending  # shopper has not paid yet
    back = await pay(emulator_base, created.id, "4200000000000000", "http://shop.test/return?x=1")
    assert back.status_code == 302
    assert back.headers["location"].startswith("http://shop.test/return?x=1&id=")
    assert "resourcePath=%2Fv1%2Fcheckouts%2F" in back.headers["location"]
    status = await hyperpay.payment_status(created.id)
    assert status.ok and status.amount_fils == 3000 and status.currency == "JOD"
    assert status.merchant_transaction_id == "pay-1-a1" and status.card_last4 == "0000"
    again = await hyperpay.payment_status(created.id)
    assert again.code == "200.300.404"  # spent after a successful status read
    found = await hyperpay.query("pay-1-a1")
    assert [p.id for p in found] == [status.id] and found[0].ok
    assert await hyperpay.query("nothing-like-it") == []


async def test_declined_card(hyperpay: HyperPayClient, emulator_base: str) -> None:
    created = await hyperpay.prepare_checkout(checkout_request("pay-2-a1"))
    await pay(emulator_base, created.id, "4000000000000002")
    status = await hyperpay.payment_status(created.id)
    assert status.result_class is ResultClass.rejected and status.code == "800.100.152"


async def test_three_d_secure_pending_then_success(
    hyperpay: HyperPayClient, emulator_base: str, control: httpx.AsyncClient
) -> None:
    await control.post("/config", json={"pending_reads": 3, "pending_seconds": 60})
    created = await hyperpay.prepare_checkout(checkout_request("pay-3-a1"))
    await pay(emulator_base, created.id, "4000000000003063")
    first = await hyperpay.payment_status(created.id)
    second = await hyperpay.payment_status(created.id)
    third = await hyperpay.payment_status(created.id)
    assert [first.result_class, second.result_class] == [ResultClass.pending, ResultClass.pending]
    assert third.ok and third.id == first.id


async def test_expired_checkout(hyperpay: HyperPayClient, emulator_base: str) -> None:
    created = await hyperpay.prepare_checkout(checkout_request("pay-4-a1"))
    await pay(emulator_base, created.id, "4000000000000119")
    status = await hyperpay.payment_status(created.id)
    assert status.code == "200.300.404" and status.result_class is ResultClass.rejected
    late = await pay(emulator_base, created.id, "4200000000000000")
    assert late.status_code == 200
    assert (await hyperpay.payment_status(created.id)).code == "200.300.404"


async def test_status_needs_the_entity_that_created_the_checkout(hyperpay: HyperPayClient) -> None:
    created = await hyperpay.prepare_checkout(checkout_request("pay-5-a1"))
    assert (await hyperpay.payment_status(created.id, "MADA")).code == "200.300.404"


async def test_bad_amount_and_missing_auth_are_refused(emulator_base: str, hyperpay: HyperPayClient) -> None:
    async with httpx.AsyncClient(base_url=f"{emulator_base}/hyperpay") as http:
        form = {"entityId": "e", "amount": "3.005", "currency": "JOD", "paymentType": "DB"}
        bad = await http.post("/v1/checkouts", data=form, headers={"Authorization": "Bearer t"})
        assert bad.status_code == 400 and "amount" in bad.json()["result"]["description"]
        anonymous = await http.post("/v1/checkouts", data={**form, "amount": "3.00"})
        assert anonymous.status_code == 401 and anonymous.json()["result"]["code"] == "800.900.300"


async def test_registration_renewals_and_refunds(
    hyperpay: HyperPayClient, emulator_base: str, control: httpx.AsyncClient
) -> None:
    created = await hyperpay.prepare_checkout(checkout_request("pay-6-a1", 5000, register=True))
    await pay(emulator_base, created.id, "5454545454545454")
    initial = await hyperpay.payment_status(created.id)
    assert initial.ok and initial.registration_id
    renewal = await hyperpay.charge_registration(initial.registration_id, 5000, "pay-7-a1", initial.id)
    assert renewal.ok and renewal.payment_type == "DB"
    assert renewal.raw["standingInstruction"]["mode"] == "REPEATED"
    duplicate = await hyperpay.charge_registration(initial.registration_id, 5000, "pay-7-a1", initial.id)
    assert duplicate.code == "800.110.100"
    queued = await control.post(
        f"/registrations/{initial.registration_id}/outcomes", json={"outcomes": ["declined", "timeout"]}
    )
    assert queued.status_code == 200
    declined = await hyperpay.charge_registration(initial.registration_id, 5000, "pay-8-a1", initial.id)
    unsure = await hyperpay.charge_registration(initial.registration_id, 5000, "pay-8-a2", initial.id)
    assert declined.result_class is ResultClass.rejected and unsure.result_class is ResultClass.temporary
    assert (await hyperpay.charge_registration("nope", 5000, "pay-9-a1", initial.id)).code == "100.150.101"
    refund = await hyperpay.refund(renewal.id, 2000)
    assert refund.ok and refund.payment_type == "RF" and refund.raw["referencedId"] == renewal.id
    too_much = await hyperpay.refund(renewal.id, 3010)
    assert too_much.code == "700.400.200"


async def test_webhooks_are_encrypted_and_retried(
    hyperpay: HyperPayClient, emulator_base: str, receiver: Receiver, control: httpx.AsyncClient
) -> None:
    receiver.fail_next = 2
    created = await hyperpay.prepare_checkout(checkout_request("pay-10-a1"))
    await pay(emulator_base, created.id, "4200000000000000")
    await wait_for(lambda: len(receiver.received) == 3)
    last = receiver.received[-1]
    data = decrypt_webhook(
        WEBHOOK_SECRET,
        last["headers"]["x-initialization-vector"],
        last["headers"]["x-authentication-tag"],
        last["body"],
    )
    event = parse_webhook(data)
    assert event.type == "PAYMENT" and event.payment.ok
    assert event.payment.merchant_transaction_id == "pay-10-a1"
    log = (await control.get("/webhooks")).json()
    assert [(d["attempt"], d["status"]) for d in log] == [(1, 500), (2, 500), (3, 200)]
    replayed = await control.post(f"/webhooks/{event.payment.id}/replay", params={"times": 2})
    assert replayed.json() == {"sent": 2} and len(receiver.received) == 5


async def test_pending_payment_sends_its_webhook_when_it_resolves(
    hyperpay: HyperPayClient, emulator_base: str, receiver: Receiver, control: httpx.AsyncClient
) -> None:
    await control.post("/config", json={"pending_seconds": 0.2, "pending_reads": 100})
    created = await hyperpay.prepare_checkout(checkout_request("pay-11-a1"))
    await pay(emulator_base, created.id, "4000000000003063")
    assert receiver.received == []
    await wait_for(lambda: len(receiver.received) == 1)
    head = receiver.received[0]["headers"]
    body = receiver.received[0]["body"]
    data = decrypt_webhook(
        WEBHOOK_SECRET, head["x-initialization-vector"], head["x-authentication-tag"], body
    )
    assert parse_webhook(data).payment.ok


async def test_a_pending_payment_resolved_on_demand_sends_its_webhook(
    hyperpay: HyperPayClient, emulator_base: str, receiver: Receiver, control: httpx.AsyncClient
) -> None:
    await control.post("/config", json={"pending_seconds": 3600, "pending_reads": 1000})
    created = await hyperpay.prepare_checkout(checkout_request("pay-13-a1"))
    await pay(emulator_base, created.id, "4000000000003063")
    [held] = await hyperpay.query("pay-13-a1")
    assert held.result_class is ResultClass.pending and receiver.received == []
    resolved = await control.post(f"/payments/{held.id}/resolve")
    assert resolved.status_code == 200 and resolved.json()["result"]["code"] == "000.100.110"
    again = await control.post(f"/payments/{held.id}/resolve")
    unknown = await control.post("/payments/nothing/resolve")
    assert again.status_code == 409 and unknown.status_code == 404
    await wait_for(lambda: len(receiver.received) == 1)
    head, body = receiver.received[0]["headers"], receiver.received[0]["body"]
    data = decrypt_webhook(
        WEBHOOK_SECRET, head["x-initialization-vector"], head["x-authentication-tag"], body
    )
    assert parse_webhook(data).payment.ok and (await hyperpay.query("pay-13-a1"))[0].ok


async def test_widget_and_hosted_page(hyperpay: HyperPayClient, emulator_base: str) -> None:
    created = await hyperpay.prepare_checkout(checkout_request("pay-12-a1"))
    async with httpx.AsyncClient() as http:
        script = await http.get(hyperpay.widget_script_url(created.id))
        assert script.status_code == 200 and "paymentWidgets" in script.text and created.id in script.text
        assert script.headers["content-type"].startswith("application/javascript")
        page = await http.get(
            f"{emulator_base}/hyperpay/v1/checkouts/{created.id}/page",
            params={"shopperResultUrl": "http://shop.test/back"},
        )
        assert page.status_code == 200 and "3.00 JOD" in page.text and "http://shop.test/back" in page.text
        unknown = await http.get(f"{emulator_base}/hyperpay/v1/paymentWidgets.js", params={"checkoutId": "x"})
        assert unknown.status_code == 404


async def test_status_throttling_is_a_temporary_failure(
    hyperpay: HyperPayClient, emulator_base: str, control: httpx.AsyncClient
) -> None:
    await control.post("/config", json={"status_limit_per_minute": 2})
    created = await hyperpay.prepare_checkout(checkout_request("pay-13-a1"))
    await hyperpay.payment_status(created.id)
    await hyperpay.payment_status(created.id)
    with pytest.raises(HyperPayUnavailable, match="HTTP 429"):
        await hyperpay.payment_status(created.id)
