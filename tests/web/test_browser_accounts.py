"""Sign-in through the dev mailbox and the account page, in Chromium against the real app."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.conftest import request_link
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser


async def test_sign_in_through_the_dev_mailbox(tab: Page, web_url: str) -> None:
    email = f"sara-{uuid.uuid4().hex[:8]}@example.com"
    await tab.goto(f"{web_url}/signin")
    await tab.get_by_label("البريد الإلكتروني").fill("not-an-email")
    await tab.get_by_role("button", name="أرسل لي رابط الدخول").click()
    error = tab.locator("#signin-error")
    await error.wait_for(state="visible")
    assert await error.text_content() == "أدخل عنوان بريد إلكتروني صالحًا."

    await tab.get_by_label("البريد الإلكتروني").fill(email)
    await tab.get_by_role("button", name="أرسل لي رابط الدخول").click()
    await tab.get_by_role("heading", name="تفقّد بريدك الإلكتروني").wait_for()
    assert await tab.locator("#signin-sent-email").text_content() == email
    await check_page(tab, "signin-sent", "ar")

    await tab.get_by_test_id("dev-mailbox").click()
    await tab.wait_for_url("**/dev/mailbox")
    link = tab.locator(f'article[data-to="{email}"] a.mailbox-link').first
    for _ in range(100):
        if await link.count():
            break
        await tab.wait_for_timeout(100)
        await tab.reload()
    await link.click()
    await tab.get_by_test_id("signin-link-submit").click()  # the link opens a page; its button signs in
    await tab.wait_for_load_state("networkidle")
    assert "/signin" not in tab.url
    assert await tab.get_by_role("link", name="الحساب").count() == 1
    me = await tab.evaluate("fetch('/v1/auth/me').then(r => r.json())")
    assert me["email"] == email


async def test_language_choice_is_saved_on_the_user(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/account")
    await tab.get_by_role("link", name="English").first.click()
    await tab.wait_for_url("**/account?lang=en")
    assert await tab.evaluate("document.documentElement.dir") == "ltr"
    me = await tab.evaluate("fetch('/v1/auth/me').then(r => r.json())")
    assert me["locale"] == "en"
    await tab.context.clear_cookies(name="lang")
    await tab.goto(f"{web_url}/usage")
    assert await tab.evaluate("document.documentElement.lang") == "en"


async def test_api_keys_are_shown_once_and_revocable(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/account")
    keys = tab.get_by_test_id("keys")
    await keys.get_by_text("لا توجد مفاتيح بعد.").wait_for()
    await tab.get_by_label("اسم المفتاح").fill("مفتاح التجربة")
    await tab.get_by_role("button", name="أنشئ مفتاحًا").click()
    secret = tab.locator("#key-secret")
    await secret.wait_for(state="visible")
    key = (await secret.text_content()) or ""
    assert len(key) > 20
    await keys.get_by_text("مفتاح التجربة").wait_for()
    status = await tab.evaluate(
        "(key) => fetch('/v1/auth/me', {headers: {Authorization: `Bearer ${key}`}, credentials: 'omit'})"
        ".then(r => r.status)",
        key,
    )
    assert status == 200
    await tab.reload()
    assert await tab.locator("#key-secret").is_hidden()
    assert key not in await tab.content()
    await keys.get_by_role("button", name="إلغاء").click()
    await keys.get_by_text("لا توجد مفاتيح بعد.").wait_for()
    status = await tab.evaluate(
        "(key) => fetch('/v1/auth/me', {headers: {Authorization: `Bearer ${key}`}, credentials: 'omit'})"
        ".then(r => r.status)",
        key,
    )
    assert status == 401
    tab.errors[:] = [e for e in tab.errors if "401" not in e and "Failed to load" not in e]  # type: ignore[attr-defined]
    assert tab.errors == []  # type: ignore[attr-defined]


async def test_other_sessions_can_be_revoked(
    tab: Page, web_url: str, sign_in_tab: SignInTab, browser: Browser
) -> None:
    email = await sign_in_tab("en")
    other = await browser.new_context()
    other_tab = await other.new_page()
    async with httpx.AsyncClient(base_url=web_url, timeout=30) as anonymous:
        link = await request_link(anonymous, email, "en")
    await other_tab.goto(link)
    await other_tab.get_by_test_id("signin-link-submit").click()
    await other_tab.wait_for_load_state("networkidle")
    assert await other_tab.evaluate("fetch('/v1/auth/me').then(r => r.status)") == 200

    await tab.goto(f"{web_url}/account")
    sessions = tab.get_by_test_id("sessions")
    await sessions.get_by_text("This device").wait_for()
    revoke = sessions.get_by_role("button", name="Revoke")
    assert await revoke.count() == 1
    await revoke.click()
    await sessions.get_by_role("button", name="Revoke").wait_for(state="detached")
    assert await other_tab.evaluate("fetch('/v1/auth/me').then(r => r.status)") == 401
    assert await tab.evaluate("fetch('/v1/auth/me').then(r => r.status)") == 200
    await other.close()


async def test_sign_out(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/account")
    await tab.get_by_role("button", name="سجّل الخروج من هذا الجهاز").click()
    await tab.wait_for_url(f"{web_url}/")
    assert await tab.get_by_role("link", name="تسجيل الدخول").count() == 1
    await tab.goto(f"{web_url}/account")
    assert tab.url.split("?")[0] == f"{web_url}/signin"  # ?next= the page it left
