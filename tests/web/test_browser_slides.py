"""The slide-deck studio in Chromium at 390 px, in Arabic: brief → the outline edited (a slide
moved, one deleted, a heading rewritten) and approved → progress → thumbnails → the PPTX
downloaded and checked (rtl, the edited heading)."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect
from pptx import Presentation

from tests.conftest import request_link
from tests.web.conftest import check_page

pytestmark = [pytest.mark.browser]


async def sign_in(tab: Page, web_url: str) -> None:
    """The emailed link opened in the tab and its confirm button pressed (the link page asks
    before signing in; the shared ``sign_in_tab`` fixture predates that button)."""
    async with httpx.AsyncClient(base_url=web_url, timeout=30) as anonymous:
        link = await request_link(anonymous, f"slides-{uuid.uuid4().hex[:10]}@example.com", "ar")
    await tab.goto(link)
    await tab.locator("form button[type=submit], form button").first.click()
    await tab.wait_for_url(lambda url: "/auth/verify" not in url)
    tab.errors.clear()  # type: ignore[attr-defined]  # the link page's script error is not this page's


async def test_brief_outline_edit_progress_download(tab: Page, web_url: str) -> None:
    await sign_in(tab, web_url)
    await tab.goto(f"{web_url}/slides")
    await check_page(tab, "slides-brief", "ar")
    await tab.get_by_label("الموضوع").fill("خطة المبيعات للربع الثالث")
    await tab.get_by_label("عدد الشرائح").fill("5")
    await tab.get_by_role("button", name="اكتب المخطط").click()
    items = tab.get_by_test_id("outline-slide")
    await expect(items).to_have_count(5, timeout=30_000)
    await check_page(tab, "slides-outline", "ar")
    await items.nth(2).get_by_role("button", name="إلى الأعلى").click()
    await items.nth(3).get_by_role("button", name="حذف").click()
    await expect(items).to_have_count(4)
    await tab.get_by_label("العنوان 2").fill("أين ننمو بعد ذلك")
    await tab.get_by_role("button", name="اعتمد واكتب الشرائح").click()
    viewer = tab.get_by_test_id("deck-viewer")
    await expect(viewer).to_be_visible(timeout=60_000)
    await expect(viewer.locator("img")).to_have_count(4)
    await check_page(tab, "slides-viewer", "ar")
    async with tab.expect_download() as download_info:
        await tab.get_by_test_id("download-pptx").click()
    download = await download_info.value
    path = await download.path()
    assert path is not None
    deck = Presentation(io.BytesIO(path.read_bytes()))
    assert deck.part._element.get("rtl") == "1" and len(deck.slides) == 4
    texts = [s.text_frame.text for s in deck.slides[1].shapes if s.has_text_frame]
    assert "أين ننمو بعد ذلك" in texts
