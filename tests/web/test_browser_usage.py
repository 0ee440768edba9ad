"""The usage meters and the 80 % banner in Chromium, driven by real ledger entries: green below
80 %, yellow from 80 %, red with the upgrade call to action at 100 %; refreshed every 30 s
(Playwright's clock) and after each turn; the banner shows on every page."""

from __future__ import annotations

import uuid

import pytest
from playwright.async_api import Page, expect

from core import ledger
from core.db import Database
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser


async def spend(db: Database, user_id: str, tokens: int) -> None:
    key = f"web-test-{uuid.uuid4().hex}"
    async with db.session() as session:
        await ledger.reserve(session, user_id=user_id, unit="tokens", amount=tokens, key=key)
    async with db.session() as session:
        await ledger.settle(session, key=key, actual=tokens)


async def test_meter_turns_yellow_then_red_and_the_banner_follows(
    tab: Page, web_url: str, sign_in_tab: SignInTab, db: Database
) -> None:
    await tab.clock.install()
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/usage")
    user_id = (await tab.evaluate("fetch('/v1/auth/me').then(r => r.json())"))["id"]
    tokens = tab.locator('.meter[data-unit="tokens"]')
    assert await tokens.get_attribute("data-level") == "ok"
    assert "0 من 20,000" in (await tokens.locator(".meter-used").text_content() or "")
    assert await tab.locator("#quota-banner").is_hidden()

    await spend(db, user_id, 17_000)  # 85 % of Free's 20,000 tokens
    await tab.clock.fast_forward(30_000)
    await expect(tokens).to_have_attribute("data-level", "warning")
    assert "17,000" in (await tokens.locator(".meter-used").text_content() or "")
    assert await tokens.locator(".meter-track").get_attribute("aria-valuenow") == "85"
    assert await tokens.locator(".meter-cta").is_hidden()
    await check_page(tab, "usage-warning", "ar")

    await tab.goto(f"{web_url}/account")
    banner = tab.locator("#quota-banner")
    await banner.wait_for(state="visible")
    assert "85%" in (await banner.text_content() or "")
    assert "الرموز" in (await banner.text_content() or "")
    await check_page(tab, "banner-warning", "ar")

    await tab.goto(f"{web_url}/usage?lang=en")
    await spend(db, user_id, 3_000)
    await tab.evaluate("document.dispatchEvent(new Event('pulse:turn-finished'))")
    await expect(tokens).to_have_attribute("data-level", "exceeded")
    assert await tokens.locator(".meter-cta").is_visible()
    assert await tokens.locator(".meter-cta a").text_content() == "Upgrade your plan"
    banner_text = await tab.locator("#quota-banner").text_content() or ""
    assert "You have used all your tokens" in banner_text
    await check_page(tab, "usage-exceeded", "en")
