"""A refund HyperPay refuses is not left in the audit log for someone to notice (#15): it is a
record support sees in the console (API and page, ar/en) and retries with an Idempotency-Key —
one refund at most, whatever the double clicks, and none when HyperPay had in fact made it.
Against the HyperPay emulator's refund fault switch, on the Temporal dev server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.client import Client

import worker as worker_module
from core.accounts import grant_role
from core.settings import Settings
from tests.payments.conftest import Shopper, pay
from tests.payments.test_checkout_api import (
    HELD_PENDING,
    THREE_DS,
    buy,
    resolve_pending,
    shopper_returns,
    start_checkout,
    wait_status,
)
from tests.payments.test_pages import browser
from tests.payments.test_renewal_race import audit_actions
from tests.payments.test_subscription_api import api_with, eventually, stop

ARABIC = re.compile(r"[\u0600-\u06FF]")
REFUSED = "700.400.200"


async def _open_refund(agent: Shopper, payment_id: str) -> dict[str, Any] | None:
    rows = (await agent.api.get("/v1/admin/refunds", params={"status": "open"})).json()
    return next((row for row in rows if row["payment_id"] == payment_id), None)


async def _retry(agent: Shopper, refund_id: str, key: str) -> dict[str, Any]:
    response = await agent.api.post(
        f"/v1/admin/refunds/{refund_id}/retry",
        json={"reason": "customer asked"},
        headers={"Idempotency-Key": key},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _refunds(control: httpx.AsyncClient, payment_id: str) -> list[dict[str, Any]]:
    rows = (await control.get("/payments")).json()
    return [p for p in rows if p["paymentType"] == "RF" and p["merchantTransactionId"].startswith(payment_id)]


async def test_a_refused_refund_is_shown_to_support_and_retried_into_one_refund(
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
    await wired.post("/config", json=HELD_PENDING)
    # the late payment's refund is refused, so is support's first retry; the second is made
    # by HyperPay but its answer is lost
    queued = await wired.post("/refunds/outcomes", json={"outcomes": ["rejected", "rejected", "lost"]})
    assert queued.status_code == 200
    timing = {"payments_checkout_timeout_s": 1.0, "payments_return_wait_s": 0.2}
    async with api_with(pay_settings, **timing) as url:
        buyer.api.base_url = agent.api.base_url = httpx.URL(url)
        late = await start_checkout(buyer, "plan:starter")
        back = await pay(emulator_base, late["checkout_id"], THREE_DS, late["widget"]["shopper_result_url"])
        await shopper_returns(buyer, back.headers["location"])
        await wait_status(buyer, late["payment_id"], "expired", timeout=30)
        try:
            await buy(buyer, emulator_base, "plan:pro")  # gave up and paid again: granted
            await resolve_pending(wired, late["payment_id"])  # then the first one succeeds: refunded
            record = await eventually(lambda: _open_refund(agent, late["payment_id"]), timeout=30)
            async with browser(agent) as tab:
                page = await tab.get("/support")
                english = (await tab.get("/v1/admin/refunds", params={"lang": "en"})).json()
            assert (await buyer.api.get(f"/v1/payments/{late['payment_id']}")).json()["status"] == "succeeded"

            refused = await _retry(agent, record["id"], "first-click")
            again = await _retry(agent, record["id"], "first-click")  # the same key: its answer
            calls_after_first = (await wired.get("/calls")).json().get("backoffice", 0)
            clicks = await asyncio.gather(*(_retry(agent, record["id"], k) for k in ("k2", "k2", "k3")))
            later = await _retry(agent, record["id"], "k4")  # closed: answered without HyperPay
            paid_back = await wait_status(buyer, late["payment_id"], "refunded", timeout=5)
            async with browser(agent) as tab:
                after = await tab.get("/support", params={"lang": "en"})
        finally:
            await stop(client, buyer.user_id)

    assert record["cause"] == "late" and record["amount"] == 3000 and record["result_code"] == REFUSED
    assert ARABIC.search(record["cause_label"]) and record["user_email"] == buyer.email
    assert [r["cause_label"] for r in english if r["id"] == record["id"]] == [
        "Paid after its checkout had expired"
    ]
    assert f'data-refund-retry="{record["id"]}"' in page.text and "أعد محاولة الاسترداد" in page.text
    assert refused == again == {"refund_id": record["id"], "status": "open", "result_code": REFUSED}
    assert calls_after_first == 2  # the refused refund and the first retry; the repeat sent nothing
    assert [c["status"] for c in clicks] == ["refunded"] * 3 and later["status"] == "refunded"
    assert paid_back["fulfilled"] is False
    assert f'data-refund="{record["id"]}"' not in after.text and "No refused refunds." in after.text
    made = [r for r in await _refunds(wired, late["payment_id"]) if r["result"]["code"] == "000.100.110"]
    assert len(made) == 1 and made[0]["amount"] == "3.00"  # one refund, though its answer was lost
    assert (await wired.get("/calls")).json()["backoffice"] == 3  # the lost one was found, not resent
    retries = [a for a in await audit_actions(pay_worker, late["payment_id"]) if a.action == "refund.retry"]
    assert [(a.details["status"], a.actor_id) for a in retries] == [
        ("open", agent.user_id),
        ("refunded", agent.user_id),
    ]
    assert retries[0].details["idempotency_key"] == "first-click" and retries[0].reason == "customer asked"
