"""Billing and support pages over HTTP (cookie sessions, as a browser): plan, history and the
result of a payment; the HyperPay widget page and its CSP; the support console."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

import worker as worker_module
from core.accounts import grant_role
from tests.payments.conftest import Shopper, pay
from tests.payments.test_checkout_api import DECLINED, SUCCESS, start_checkout

HTML = {"Accept": "text/html"}


def browser(shopper: Shopper) -> httpx.AsyncClient:
    """The shopper's session as a cookie (what the pages read)."""
    token = shopper.api.headers["Authorization"].removeprefix("Bearer ")
    return httpx.AsyncClient(
        base_url=str(shopper.api.base_url), cookies={"pulse_session": token}, headers=HTML, timeout=30
    )


async def test_billing_page_shows_the_paid_result_plan_and_history(
    shopper: Callable[..., Awaitable[Shopper]], emulator_base: str
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "plan:starter")
    async with browser(buyer) as tab:
        form = await tab.get(f"/billing/pay/{started['payment_id']}")
        assert form.status_code == 200
        assert f"paymentWidgets.js?checkoutId={started['checkout_id']}" in form.text
        assert f"/billing/return?payment={started['payment_id']}" in form.text
        assert emulator_base in form.headers["content-security-policy"]
        back = await pay(
            emulator_base, started["checkout_id"], SUCCESS, started["widget"]["shopper_result_url"]
        )
        url = httpx.URL(back.headers["location"])
        returned = await tab.get(url.path, params=dict(url.params))
        assert returned.status_code == 303
        assert returned.headers["location"] == f"/billing?payment={started['payment_id']}"
        page = await tab.get(returned.headers["location"])
        english = await tab.get("/billing", params={"payment": started["payment_id"], "lang": "en"})
        closed = await tab.get(f"/billing/pay/{started['payment_id']}", params={"lang": "en"})
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "الفوترة" in page.text
    assert 'data-testid="payment-result"' in page.text and 'data-status="succeeded"' in page.text
    assert "مدفوعة" in page.text and 'data-plan="starter"' in page.text
    assert "Renews on" in english.text and f'data-payment="{started["payment_id"]}"' in english.text
    assert "no longer open" in closed.text


async def test_declined_payment_shows_failed_on_the_billing_page(
    shopper: Callable[..., Awaitable[Shopper]], emulator_base: str
) -> None:
    buyer = await shopper()
    started = await start_checkout(buyer, "addon:tokens_200k")
    back = await pay(emulator_base, started["checkout_id"], DECLINED, started["widget"]["shopper_result_url"])
    url = httpx.URL(back.headers["location"])
    async with browser(buyer) as tab:
        page = await tab.get(url.path, params={**dict(url.params), "lang": "en"}, follow_redirects=True)
    assert page.status_code == 200 and 'data-status="failed"' in page.text and "800.100.152" in page.text


async def test_support_console_needs_the_role(
    shopper: Callable[..., Awaitable[Shopper]], pay_worker: worker_module.WorkerDeps
) -> None:
    agent, customer = await shopper(), await shopper()
    async with browser(agent) as tab:
        refused = await tab.get("/support")
        async with pay_worker.db.session() as session:
            await grant_role(session, agent.email, "support")
        console = await tab.get("/support", params={"email": customer.email, "lang": "en"})
        missing = await tab.get("/support", params={"email": "nobody@example.com", "lang": "en"})
    assert refused.status_code == 403
    assert console.status_code == 200 and "Support console" in console.text
    assert f'data-user="{customer.user_id}"' in console.text and "user.lookup" in console.text
    assert "No user with this email." in missing.text
