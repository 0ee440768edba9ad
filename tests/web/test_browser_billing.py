"""Upgrading from the browser: /billing → POST /v1/payments/checkout → HyperPay's widget (the
emulator's) on /billing/pay under a CSP widened for HyperPay only → test card → return page →
the plan is active."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser


async def test_upgrade_to_starter_with_a_test_card(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/usage")
    await tab.get_by_role("link", name="ترقية").count()  # the banner is hidden below 80 %
    await tab.goto(f"{web_url}/billing")
    await tab.locator('button[data-item="plan:starter"]').click()
    await tab.wait_for_url("**/billing/pay?**")
    csp = await tab.evaluate("fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "script-src 'self' http://127.0.0.1:" in csp
    card = tab.locator('input[name="card.number"]')
    await expect(card).to_be_visible()
    await check_page(tab, "billing-pay", "ar", wait_idle=False)
    await card.fill("4200000000000000")
    await tab.locator("button.wpwl-button-pay").click()
    await tab.wait_for_url("**/billing/return?**", timeout=30_000)
    status = tab.locator("[data-status]")
    await expect(status).to_have_attribute("data-status", "succeeded", timeout=30_000)
    usage = await tab.evaluate("fetch('/v1/usage/me').then(r => r.json())")
    assert usage["plan_id"] == "starter"
    assert usage["units"]["tokens"]["granted"] >= 300_000
