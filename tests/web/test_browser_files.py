"""Attachments in Chromium: a file attached on the chat page uploads with progress, is scanned,
is sent with the message (the emulator's reply says it saw the image); a dropped EICAR file is
refused with the reason in Arabic; "My files" lists the upload."""

from __future__ import annotations

import base64

import pytest
from playwright.async_api import Page, expect

from tests.storage.helpers import EICAR, png_bytes
from tests.web.conftest import SignInTab, check_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clamd")]

DROP_JS = """
async ([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const zone = document.getElementById('chat');
  zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
}
"""


async def test_attach_an_image_send_it_and_find_it_in_my_files(
    tab: Page, web_url: str, sign_in_tab: SignInTab
) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/chat")
    await tab.set_input_files(
        "#composer-files", files=[{"name": "صورة.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    item = tab.get_by_test_id("attachment").first
    await expect(item).to_have_attribute("data-status", "ready", timeout=30_000)
    await expect(item.locator(".attachment-status")).to_have_text("جاهز")

    await tab.evaluate(DROP_JS, ["eicar.txt", "text/plain", base64.b64encode(EICAR).decode()])
    refused = tab.get_by_test_id("attachment").nth(1)
    await expect(refused).to_have_attribute("data-status", "rejected", timeout=30_000)
    await expect(refused.locator(".attachment-status")).to_contain_text("برمجية خبيثة")
    await check_page(tab, "chat-attachments", "ar")
    await refused.get_by_role("button").click()  # remove it from the tray

    await tab.get_by_role("textbox", name="الرسالة").fill("صف هذه الصورة")
    await tab.keyboard.press("Enter")
    await expect(tab.get_by_test_id("message-files")).to_contain_text("صورة.png")
    reply = tab.locator(".message-assistant").last
    await expect(reply).to_have_attribute("data-state", "done", timeout=60_000)
    await expect(reply.locator(".message-body")).to_contain_text("رأيتُ 1 صورة")
    await expect(tab.get_by_test_id("attachment")).to_have_count(0)
    tab.errors.clear()  # type: ignore[attr-defined]  # the EICAR refusal was expected

    await tab.goto(f"{web_url}/files")
    rows = tab.get_by_test_id("file-row")
    await expect(rows).to_have_count(2)
    await expect(tab.get_by_test_id("files-table")).to_contain_text("مرفوض")
    await expect(tab.get_by_test_id("storage-meter")).to_contain_text("ميغابايت")
    await check_page(tab, "my-files", "ar")
    download = rows.filter(has_text="صورة.png").get_by_role("link", name="تنزيل")
    assert (await download.get_attribute("href") or "").endswith("/content")
