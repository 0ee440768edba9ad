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
from tests.slides.test_pictures import pictures_per_page
from tests.slides.test_source import FIXTURE
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


@pytest.mark.usefixtures("clamd")
async def test_a_deck_from_an_uploaded_document_with_a_picture(tab: Page, web_url: str) -> None:
    """A PDF uploaded (and scanned) from the chat composer is picked as the deck's source on the
    slides page, pictures are on, one slide becomes image + text: its thumbnail shows the picture."""
    await sign_in(tab, web_url)
    await tab.goto(f"{web_url}/chat")
    source = FIXTURE.read_bytes()
    await tab.set_input_files(
        "#composer-files", files=[{"name": "خطة.pdf", "mimeType": "application/pdf", "buffer": source}]
    )
    await expect(tab.get_by_test_id("attachment").first).to_have_attribute(
        "data-status", "ready", timeout=30_000
    )
    await tab.goto(f"{web_url}/slides")
    await tab.get_by_label("الموضوع").fill("خطة المبيعات للربع الثالث")
    await tab.get_by_label("عدد الشرائح").fill("4")
    await tab.get_by_label("مستند مصدر (اختياري)").select_option(label="خطة.pdf")
    await tab.get_by_test_id("brief-images").check()
    await check_page(tab, "slides-brief-source", "ar")
    await tab.get_by_role("button", name="اكتب المخطط").click()
    items = tab.get_by_test_id("outline-slide")
    await expect(items).to_have_count(4, timeout=30_000)
    await items.nth(1).get_by_role("combobox").select_option("image_text")
    await tab.get_by_role("button", name="اعتمد واكتب الشرائح").click()
    viewer = tab.get_by_test_id("deck-viewer")
    await expect(viewer).to_be_visible(timeout=90_000)
    await expect(viewer.locator("img")).to_have_count(4)
    await check_page(tab, "slides-viewer-picture", "ar")
    async with tab.expect_download() as download_info:
        await tab.get_by_test_id("download-pdf").click()
    path = await (await download_info.value).path()
    assert path is not None and pictures_per_page(path.read_bytes()) == [0, 1, 0, 0]
