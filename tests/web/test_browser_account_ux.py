"""Issue 24, item 12 in Chromium (ar and en, 390 px and 1280 px): the account page's display
name, sign-in email change (the link arrives at the new address) and deletion with undo."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.conftest import mailbox_link
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser

TEXT = {
    "ar": (
        "حفظ",
        "حُفظ.",
        "أرسل رابط التأكيد",
        "تغيّر بريد تسجيل دخولك",
        "احذفه بعد 14 يومًا",
        "أبقِ حسابي",
        "تُحفظ سجلات الدفع",
    ),
    "en": (
        "Save",
        "Saved.",
        "Send confirmation link",
        "Your sign-in email is changed",
        "Delete in 14 days",
        "Keep my account",
        "Payment records",
    ),
}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_account_page_name_email_and_deletion(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str
) -> None:
    save, saved, send_link, changed, delete, keep, kept_note = TEXT[locale]
    email = await sign_in_tab(locale)
    await tab.goto(f"{web_url}/account?lang={locale}")
    await tab.locator("#display-name").fill("ليلى Haddad")
    await tab.get_by_role("button", name=save, exact=True).click()
    await expect(tab.locator("#name-status")).to_have_text(saved)

    new_email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    await tab.locator("#new-email").fill(new_email)
    await tab.get_by_role("button", name=send_link).click()
    await expect(tab.locator("#email-status")).to_contain_text(new_email)
    async with httpx.AsyncClient(base_url=web_url, timeout=30) as http:
        link = await mailbox_link(http, new_email)
    await tab.goto(link)
    await expect(tab.get_by_test_id("email-changed")).to_contain_text(changed)
    await expect(tab.locator("main")).to_contain_text(new_email)
    await expect(tab.locator("#display-name")).to_have_value("ليلى Haddad")

    section = tab.get_by_test_id("delete-account")
    await expect(section).to_contain_text(kept_note)
    await tab.locator("#delete-confirm").fill(email)  # the old email no longer confirms
    await tab.get_by_role("button", name=delete).click()
    await expect(tab.locator("#delete-status")).to_be_visible()
    await tab.locator("#delete-confirm").fill(new_email)
    tab.errors.clear()  # type: ignore[attr-defined] (the refused attempt answered 422 on purpose)
    await tab.get_by_role("button", name=delete).click()
    await expect(tab.locator("#deletion-scheduled")).to_be_visible()
    await check_page(tab, "account-deletion-390", locale)
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "account-deletion-1280", locale)
    await tab.get_by_role("button", name=keep).click()
    await expect(tab.locator("#delete-confirm")).to_be_visible()
