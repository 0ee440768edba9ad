"""Every page in a real Chromium at 390 px, in Arabic and English: direction, the served Arabic
font, no overflowing text, no console or CSP errors; screenshots under var/screenshots/."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.web.conftest import check_page

pytestmark = pytest.mark.browser

PAGES = {"landing": "/", "signin": "/signin", "usage": "/usage", "account": "/account", "chat": "/chat"}


@pytest.mark.parametrize("locale", ["ar", "en"])
@pytest.mark.parametrize("name", list(PAGES))
async def test_page_in_both_languages(tab: Page, api_url: str, name: str, locale: str) -> None:
    await tab.goto(f"{api_url}{PAGES[name]}?lang={locale}")
    await check_page(tab, name, locale)


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_error_page(tab: Page, api_url: str, locale: str) -> None:
    response = await tab.goto(f"{api_url}/no-such-page?lang={locale}")
    assert response is not None and response.status == 404
    await tab.wait_for_load_state("networkidle")
    expected = [f"404 {api_url}/no-such-page?lang={locale}", "Failed to load resource"]
    assert all(any(error.startswith(e) for e in expected) for error in tab.errors)  # type: ignore[attr-defined]
    tab.errors.clear()  # type: ignore[attr-defined]  # only the 404 document itself
    await check_page(tab, "error-404", locale)


async def test_switch_to_english_and_back_is_remembered(tab: Page, api_url: str) -> None:
    await tab.goto(f"{api_url}/")
    assert await tab.evaluate("document.documentElement.dir") == "rtl"
    await tab.get_by_test_id("lang-switch").click()
    await tab.wait_for_url("**/?lang=en")
    assert await tab.evaluate("document.documentElement.dir") == "ltr"
    await tab.goto(f"{api_url}/signin")
    assert await tab.evaluate("document.documentElement.lang") == "en"
    await tab.get_by_test_id("lang-switch").click()
    await tab.wait_for_url("**/signin?lang=ar")
    await tab.goto(f"{api_url}/usage")
    assert await tab.evaluate("document.documentElement.dir") == "rtl"
    assert tab.errors == []  # type: ignore[attr-defined]


async def test_keyboard_focus_is_visible(tab: Page, api_url: str) -> None:
    await tab.goto(f"{api_url}/")
    await tab.keyboard.press("Tab")
    focused = await tab.evaluate(
        "(() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return [el.className, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused[0] == "skip-link" and focused[1] == "solid" and focused[2] == "3px"


async def test_signin_checks_the_email_in_the_page_language(tab: Page, api_url: str) -> None:
    await tab.goto(f"{api_url}/signin")
    await tab.get_by_label("البريد الإلكتروني").fill("not-an-email")
    await tab.get_by_role("button", name="أرسل لي رابط الدخول").click()
    error = tab.locator("#signin-error")
    await error.wait_for(state="visible")
    assert await error.text_content() == "أدخل عنوان بريد إلكتروني صالحًا."
    assert await tab.get_by_label("البريد الإلكتروني").get_attribute("aria-invalid") == "true"
