"""Attachments in Chromium: a file attached on the chat page uploads with progress, is scanned,
is sent with the message (the emulator's reply says it saw the image); a dropped EICAR file is
refused with the reason in Arabic; "My files" lists the upload."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect
from temporalio.client import Client

import worker as worker_module
from core.settings import Settings
from tests.conftest import request_link, serve_app
from tests.storage.conftest import s3_app_settings
from tests.storage.helpers import EICAR, png_bytes
from tests.web.conftest import SignInTab, check_page
from workflows import BACKGROUND, INTERACTIVE, STREAMS

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


DROP_SIZED_JS = """
([name, type, size]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(size)], name, { type }));
  const zone = document.getElementById('chat');
  zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
}
"""
REFUSALS = {
    "ar": ("هذا الملف كبير جدًا. الحد الأقصى 20 ميغابايت.", "لا يمكن رفع ملفات من هذا النوع هنا."),
    "en": ("This file is too large. The limit is 20 MB.", "Files of this type can't be uploaded here."),
}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_too_large_and_wrong_type_are_refused_in_the_page_language(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str
) -> None:
    """Refused before anything is uploaded: the row says why, in the person's language."""
    await sign_in_tab(locale)
    await tab.goto(f"{web_url}/chat")
    await expect(tab.locator("#composer-attach")).to_be_visible()  # attach.js is loaded
    await tab.evaluate(DROP_SIZED_JS, ["big.pdf", "application/pdf", 21 * 1024 * 1024])
    await tab.evaluate(DROP_SIZED_JS, ["tool.exe", "application/x-msdownload", 2048])
    rows = tab.get_by_test_id("attachment")
    for index, message in enumerate(REFUSALS[locale]):
        await expect(rows.nth(index)).to_have_attribute("data-status", "rejected", timeout=30_000)
        await expect(rows.nth(index).locator(".attachment-status")).to_have_text(message)
    tab.errors.clear()  # type: ignore[attr-defined]  # the 413 and 415 were expected
    listed = await tab.evaluate("fetch('/v1/files').then(r => r.json())")
    assert listed == []  # nothing was recorded


async def expect_thumbnail(tab: Page, name: str) -> None:
    """The question's file under it: a link to the file and its thumbnail, loaded (through the
    302 to a signed link: our own, or S3's under the page's CSP)."""
    shown = tab.locator(".message-user").get_by_test_id("message-file").filter(has_text=name)
    await expect(shown).to_have_count(1, timeout=30_000)
    assert (await shown.get_attribute("href") or "").endswith("/content?inline=1")
    thumb = shown.locator("img.message-file-thumb")
    await expect(thumb).to_have_attribute("alt", f"صورة مرفقة: {name}")
    await tab.wait_for_function(
        "el => el.complete && el.naturalWidth > 0", arg=await thumb.element_handle(), timeout=30_000
    )


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

    await tab.reload()  # the conversation, loaded again, shows what its question came with
    await expect_thumbnail(tab, "صورة.png")
    await check_page(tab, "chat-reloaded-attachments", "ar")

    await tab.goto(f"{web_url}/files")
    rows = tab.get_by_test_id("file-row")
    await expect(rows).to_have_count(2)
    await expect(tab.get_by_test_id("files-table")).to_contain_text("مرفوض")
    await expect(tab.get_by_test_id("storage-meter")).to_contain_text("ميغابايت")
    await check_page(tab, "my-files", "ar")
    download = rows.filter(has_text="صورة.png").get_by_role("link", name="تنزيل")
    assert (await download.get_attribute("href") or "").endswith("/content")
    # delete the refused one: asked first, then gone from the list (and from the API)
    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    tab.on("dialog", accept)
    await rows.filter(has_text="eicar.txt").get_by_role("button", name="حذف").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("صورة.png")
    assert asked == ["أتريد حذف هذا الملف؟"]
    listed = await tab.evaluate("fetch('/v1/files').then(r => r.json())")
    assert [f["name"] for f in listed] == ["صورة.png"]


async def test_on_s3_the_upload_and_the_thumbnail_pass_the_csp(
    tab: Page, settings: Settings, s3_url: str, run_id: str, client: Client
) -> None:
    """The S3 backend in the browser: the page posts the form straight to the quarantine bucket
    (CSP connect-src), and the reloaded conversation's thumbnail comes from a signed S3 link
    (CSP img-src) — no CSP violation, the image loaded."""
    own = s3_app_settings(settings, s3_url, run_id)
    deps = worker_module.build_deps(own)
    workers = worker_module.build_workers(client, deps, [BACKGROUND, INTERACTIVE, STREAMS])
    try:
        async with workers[0], workers[1], workers[2], serve_app(own, run_worker=False) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as anonymous:
                link = await request_link(anonymous, f"s3-{uuid.uuid4().hex[:10]}@example.com", "ar")
                page = await anonymous.get("/")
            assert s3_url in page.headers["content-security-policy"].split("img-src", 1)[1].split(";")[0]
            # what terraform gives the buckets (infra/terraform/modules/storage): CORS for the app
            await deps.storage.ensure_buckets()
            for bucket in (own.s3_bucket_quarantine, own.s3_bucket_assets):
                rule = {"AllowedOrigins": [url], "AllowedMethods": ["GET", "POST"], "AllowedHeaders": ["*"]}
                deps.storage.client.put_bucket_cors(  # type: ignore[attr-defined]
                    Bucket=bucket, CORSConfiguration={"CORSRules": [rule]}
                )
            await tab.goto(url + link[len(own.public_url) :])  # the emailed link, on this server
            await tab.get_by_test_id("signin-link-submit").click()
            await tab.wait_for_load_state("networkidle")
            await tab.goto(f"{url}/chat")
            await tab.set_input_files(
                "#composer-files",
                files=[{"name": "لقطة.png", "mimeType": "image/png", "buffer": png_bytes()}],
            )
            item = tab.get_by_test_id("attachment").first
            await expect(item).to_have_attribute("data-status", "ready", timeout=60_000)
            await tab.get_by_role("textbox", name="الرسالة").fill("ماذا في الصورة؟")
            await tab.keyboard.press("Enter")
            reply = tab.locator(".message-assistant").last
            await expect(reply).to_have_attribute("data-state", "done", timeout=60_000)
            await expect(reply.locator(".message-body")).to_contain_text("رأيتُ 1 صورة")
            fetched: list[str] = []
            tab.on("response", lambda response: fetched.append(response.url))
            await tab.reload()
            await expect_thumbnail(tab, "لقطة.png")  # from S3 itself, by a signed link:
            assert any(url.startswith(s3_url) and "X-Amz-Signature" in url for url in fetched), fetched
            assert tab.errors == []  # type: ignore[attr-defined]
    finally:
        await deps.aclose()
