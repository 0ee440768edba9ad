"""Every page in a real Chromium at 390 px, in Arabic and English: direction, the served Arabic
font, no overflowing text, no console or CSP errors; screenshots under var/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page

from tests.web.conftest import PHONE, SignInTab, check_page, watch_errors
from web.auth import signin_url

pytestmark = pytest.mark.browser

VISITOR_PAGES = {"landing": "/", "signin": "/signin"}
USER_PAGES = {"home": "/", "usage": "/usage", "account": "/account", "chat": "/chat", "billing": "/billing"}
# the studio menu's pages (issue 24: screenshots of every page in both languages and widths)
USER_PAGES |= {"images": "/images", "video": "/video", "cv": "/cv", "slides": "/slides", "files": "/files"}


@pytest.mark.parametrize("locale", ["ar", "en"])
@pytest.mark.parametrize("name", list(VISITOR_PAGES))
async def test_visitor_page_in_both_languages(tab: Page, web_url: str, name: str, locale: str) -> None:
    await tab.goto(f"{web_url}{VISITOR_PAGES[name]}?lang={locale}")
    await check_page(tab, name, locale)


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_signed_in_pages_in_both_languages(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str
) -> None:
    await sign_in_tab(locale)
    for name, path in USER_PAGES.items():
        await tab.goto(f"{web_url}{path}")
        assert tab.url == f"{web_url}{path}", "signed-in pages must not bounce to /signin"
        await check_page(tab, name, locale)
        if name == "files":  # a new account stores nothing: "0 KB", not "1 KB"
            assert re.search(r"(^|\s)0\s", await tab.locator("#storage-meter").text_content() or "")


async def test_visitors_are_sent_to_sign_in(tab: Page, web_url: str) -> None:
    for path in ("/usage", "/account", "/chat"):
        await tab.goto(f"{web_url}{path}")
        assert tab.url == f"{web_url}{signin_url(path)}"  # sign-in comes back to the page


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_error_page(tab: Page, web_url: str, locale: str) -> None:
    response = await tab.goto(f"{web_url}/no-such-page?lang={locale}")
    assert response is not None and response.status == 404
    await tab.wait_for_load_state("networkidle")
    expected = [f"404 {web_url}/no-such-page?lang={locale}", "Failed to load resource"]
    assert all(any(error.startswith(e) for e in expected) for error in tab.errors)  # type: ignore[attr-defined]
    tab.errors.clear()  # type: ignore[attr-defined]  # only the 404 document itself
    await check_page(tab, "error-404", locale)


async def test_switch_to_english_and_back_is_remembered(tab: Page, web_url: str) -> None:
    await tab.goto(f"{web_url}/")
    assert await tab.evaluate("document.documentElement.dir") == "rtl"
    await tab.get_by_test_id("lang-switch").click()
    await tab.wait_for_url("**/?lang=en")
    assert await tab.evaluate("document.documentElement.dir") == "ltr"
    await tab.goto(f"{web_url}/signin")
    assert await tab.evaluate("document.documentElement.lang") == "en"
    await tab.get_by_test_id("lang-switch").click()
    await tab.wait_for_url("**/signin?lang=ar")
    await tab.goto(f"{web_url}/")
    assert await tab.evaluate("document.documentElement.dir") == "rtl"
    assert tab.errors == []  # type: ignore[attr-defined]


async def test_keyboard_focus_is_visible(tab: Page, web_url: str) -> None:
    await tab.goto(f"{web_url}/")
    await tab.keyboard.press("Tab")
    focused = await tab.evaluate(
        "(() => { const el = document.activeElement; const s = getComputedStyle(el);"
        " return [el.className, s.outlineStyle, s.outlineWidth]; })()"
    )
    assert focused == ["skip-link", "solid", "3px"]


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_dark_mode(browser: Browser, web_url: str, locale: str) -> None:
    context = await browser.new_context(viewport=PHONE, color_scheme="dark")
    page = watch_errors(await context.new_page())
    await page.goto(f"{web_url}/?lang={locale}")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 20, 22)"
    await check_page(page, "landing-dark", locale)
    await context.close()
