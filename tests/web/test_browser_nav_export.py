"""Issue 24 in Chromium, Arabic and English, at 390 px and 1280 px: the header keeps the studio
tools (images, video, CV, slides, files) in one menu, so it stays on one line on a desktop and
two at most on a phone; the account page prepares the person's data and offers the archive."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.web.conftest import PHONE, SignInTab, check_page, screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
TEXT = {
    "ar": {
        "studio": "الاستوديو",
        "cv": "سيرتي الذاتية",
        "prepare": "جهّز بياناتي",
        "download": "تنزيل الأرشيف (ZIP)",
    },
    "en": {"studio": "Studio", "cv": "My CV", "prepare": "Prepare my data", "download": "Download (.zip)"},
}
# The rows the header's parts sit on (the brand and each top-level item), by their top edge.
HEADER_ROWS_JS = """
() => {
  const items = [document.querySelector('.brand'), document.querySelector('.lang-switch'),
                 ...document.querySelectorAll('.site-nav > ul > li')];
  return new Set(items.map(el => Math.round(el.getBoundingClientRect().top / 8))).size;
}
"""
INSIDE_VIEWPORT_JS = """
(menu) => [...menu.querySelectorAll('.menu-items a')].every(a => {
  const box = a.getBoundingClientRect();
  return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
})
"""


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_header_groups_the_studio_tools_in_one_menu(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str
) -> None:
    text = TEXT[locale]
    await sign_in_tab(locale)
    for name, viewport, rows in (("390", PHONE, 2), ("1280", DESKTOP, 1)):
        await tab.set_viewport_size(viewport)
        await tab.goto(f"{web_url}/chat?lang={locale}")
        await screenshot(tab, f"header-{name}-{locale}")
        assert await tab.evaluate(HEADER_ROWS_JS) <= rows, name
        menu = tab.get_by_test_id("studio-menu")
        await expect(menu.locator(".menu-items")).to_be_hidden()
        await menu.get_by_text(text["studio"], exact=True).click()
        links = menu.locator(".menu-items a")
        await expect(links).to_have_count(5)
        assert await menu.evaluate(INSIDE_VIEWPORT_JS), name
        await check_page(tab, f"header-menu-{name}", locale)
        await tab.keyboard.press("Escape")
        await expect(menu.locator(".menu-items")).to_be_hidden()
    await menu.get_by_text(text["studio"], exact=True).click()
    await tab.locator("main").click(position={"x": 5, "y": 5})  # a click elsewhere closes it
    await expect(menu.locator(".menu-items")).to_be_hidden()
    await menu.get_by_text(text["studio"], exact=True).click()
    await menu.get_by_role("link", name=text["cv"]).click()
    await tab.wait_for_url(f"{web_url}/cv*")
    await expect(tab.get_by_test_id("studio-menu").locator("summary")).to_have_attribute(
        "aria-current", "page"
    )


async def test_signed_out_header_offers_images_and_video(tab: Page, web_url: str) -> None:
    await tab.goto(f"{web_url}/?lang=en")
    menu = tab.get_by_test_id("studio-menu")
    await menu.get_by_text("Studio", exact=True).click()
    assert await menu.locator(".menu-items a").all_text_contents() == ["Images", "Video"]
    assert await tab.evaluate(HEADER_ROWS_JS) <= 2


@pytest.mark.parametrize(("locale", "viewport"), [("ar", PHONE), ("en", DESKTOP)])
async def test_account_page_prepares_and_downloads_the_data(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str, viewport: dict[str, int]
) -> None:
    text = TEXT[locale]
    email = await sign_in_tab(locale)
    await tab.set_viewport_size(viewport)
    await tab.goto(f"{web_url}/account?lang={locale}")
    section = tab.get_by_test_id("data-export")
    await section.get_by_role("button", name=text["prepare"]).click()
    link = section.get_by_role("link", name=text["download"])
    await expect(link).to_be_visible(timeout=60_000)
    width = "390" if viewport == PHONE else "1280"
    await check_page(tab, f"account-export-{width}", locale)
    async with tab.expect_download() as waiting:
        await link.click()
    download = await waiting.value
    assert download.suggested_filename == "pulse-data.zip"
    archive = zipfile.ZipFile(io.BytesIO(open(await download.path(), "rb").read()))  # noqa: ASYNC230
    assert json.loads(archive.read("data.json"))["profile"]["email"] == email

    async with httpx.AsyncClient(base_url=web_url, timeout=30) as http:  # the email, in the language
        mails = (await http.get("/dev/mailbox.json", params={"to": email})).json()
    subjects = [m["subject"] for m in mails if "/account/export/" in (m.get("link") or "")]
    assert subjects == [{"ar": "بياناتك جاهزة للتنزيل", "en": "Your data is ready to download"}[locale]]
    await tab.reload()  # the newest export is offered again after a reload
    await expect(section.get_by_role("link", name=text["download"])).to_be_visible()
