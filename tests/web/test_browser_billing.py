"""Paying in Chromium: the billing page starts a checkout, the HyperPay widget (the emulator's)
renders inside our page under its CSP, a test card pays, the shopper comes back to billing and
sees the add-on paid; a declined card says so in words, styled as an error (issue 24)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser


CARD_FORM = {"ar": ("رقم البطاقة", "ادفع الآن", "rtl"), "en": ("Card number", "Pay now", "ltr")}


async def buy(tab: Page, web_url: str, card: str, locale: str = "en") -> None:
    await tab.goto(f"{web_url}/billing")
    await tab.locator('[data-checkout="addon:images_10"]').click()
    await tab.wait_for_url("**/billing/pay/**")
    form = tab.locator("form.paymentWidgets")
    await expect(form.locator('[name="card.number"]')).to_be_visible()
    label, button, direction = CARD_FORM[locale]  # COPYandPAY's locale follows the page
    await expect(form).to_contain_text(label)
    await expect(form.locator("button[type=submit]")).to_have_text(button)
    assert await form.evaluate("el => getComputedStyle(el).direction") == direction
    assert (
        await form.locator('[name="card.number"]').evaluate("el => getComputedStyle(el).direction") == "ltr"
    )
    await check_page(tab, "billing-pay", locale)
    await form.locator('[name="card.number"]').fill(card)
    await form.locator('[name="card.holder"]').fill("Test Shopper")
    await form.locator("button[type=submit]").click()
    await tab.wait_for_url("**/billing?payment=*", timeout=20_000)


async def test_add_on_paid_in_the_browser(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("ar")
    await buy(tab, web_url, "4200000000000000", "ar")
    result = tab.locator('[data-testid="payment-result"]')
    await expect(result).to_have_attribute("data-status", "succeeded")
    await expect(result).to_contain_text("وصلتنا دفعتك")
    history = tab.locator('[data-testid="payment-history"] li[data-status="succeeded"]')
    await expect(history).to_have_count(1)
    await expect(history).to_contain_text("10 صور")  # the catalog's name, not images_10
    await check_page(tab, "billing-paid-ar", "ar")
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "billing-paid-1280", "ar")


async def test_declined_card_in_the_browser(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("en")
    await buy(tab, web_url, "4000000000000002")
    result = tab.locator('[data-testid="payment-result"]')
    await expect(result).to_have_attribute("data-status", "failed")
    await expect(result).to_have_attribute("data-kind", "declined")
    await expect(result).to_contain_text(
        "Your card was declined. Check the card details or use another card."
    )
    await expect(result).not_to_contain_text("800.100.152")
    assert await result.evaluate("el => getComputedStyle(el).color") == "rgb(179, 38, 30)"  # --danger
    await expect(tab.locator('[data-testid="payment-history"] li')).to_contain_text("10 images")
    await check_page(tab, "billing-declined-en", "en")
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "billing-declined-1280", "en")
