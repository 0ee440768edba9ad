"""Issue 24, item 10 in Chromium: our own validation messages in the page's language (never the
browser's English bubble) and a rate limit said in minutes, in ar and en."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser

TEXT = {
    "ar": ("أنشئ مفتاحًا", "املأ هذا الحقل.", "طلبات كثيرة جدًا. حاول مجددًا خلال 10 دقائق."),
    "en": ("Create key", "Fill in this field.", "Too many requests. Try again in 10 minutes."),
}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_own_validation_and_rate_limit_text(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str
) -> None:
    create, fill_in, limited = TEXT[locale]
    await sign_in_tab(locale)
    await tab.goto(f"{web_url}/account?lang={locale}")
    field = tab.locator("#key-name")
    await field.fill("   ")
    await tab.get_by_role("button", name=create).click()
    await expect(tab.locator("#key-name-invalid")).to_have_text(fill_in)
    await expect(field).to_have_attribute("aria-invalid", "true")
    assert await tab.locator("#key-form").evaluate("form => form.noValidate")
    await expect(tab.get_by_test_id("keys").locator("[data-key]")).to_have_count(0)
    await check_page(tab, "account-invalid-390", locale)
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "account-invalid-1280", locale)
    text = await tab.evaluate("import('/static/js/api.js').then(m => m.rateLimitMessage('593'))")
    assert text == limited
