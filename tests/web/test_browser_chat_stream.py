"""Chat against the real chat API, in Chromium: an Arabic message streams in, a reload mid-reply
re-attaches and the reply continues, Stop ends it, and the token meter moves. Skipped while the
app does not serve the chat API (``POST /v1/chat/turns``)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.conftest import EmulatorControl
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser

ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture
async def chat_api(web_url: str) -> None:
    async with httpx.AsyncClient(base_url=web_url) as http:
        if (await http.post("/v1/chat/turns", json={})).status_code in (404, 405):
            pytest.skip("the chat API is not in this app yet")


async def body_text(page: Page) -> str:
    return await page.locator(".message-assistant .message-body").last.inner_text()


async def test_arabic_reply_streams_and_survives_a_reload(
    tab: Page, web_url: str, sign_in_tab: SignInTab, emulator: EmulatorControl, chat_api: None
) -> None:
    await emulator.fault("openai", "slow", count=1, delay_s=0.08)
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/chat")
    meter = tab.get_by_test_id("chat-meter")
    await expect(meter).to_contain_text("الرموز المتاحة: ")
    meter_before = await meter.text_content()

    await tab.get_by_role("textbox", name="الرسالة").fill("اشرح لي باختصار ما هي الحوسبة السحابية؟")
    await tab.keyboard.press("Enter")
    reply = tab.locator(".message-assistant").last
    await expect(reply).to_have_attribute("data-state", "streaming")
    await expect(reply.locator(".message-body")).not_to_be_empty()
    await tab.wait_for_url(re.compile(r"/chat/[\w-]+$"))
    partial = await body_text(tab)

    await tab.reload()
    reply = tab.locator(".message-assistant").last
    await expect(reply).to_have_attribute("data-state", "done", timeout=60_000)
    final = await body_text(tab)
    assert ARABIC.search(final) and len(final) > len(partial)
    assert await reply.locator(".message-body").evaluate("el => getComputedStyle(el).direction") == "rtl"
    await expect(meter).not_to_have_text(meter_before or "")
    await check_page(tab, "chat-reply", "ar")


async def test_stop_ends_the_reply(
    tab: Page, web_url: str, sign_in_tab: SignInTab, emulator: EmulatorControl, chat_api: None
) -> None:
    await emulator.fault("openai", "hang", count=1, after_tokens=5)
    await sign_in_tab("en")
    await tab.goto(f"{web_url}/chat")
    await tab.get_by_role("textbox", name="Message").fill("مرحبا، كيف حالك؟")
    await tab.get_by_role("button", name="Send").click()
    reply = tab.locator(".message-assistant").last
    await expect(reply.locator(".message-body")).not_to_be_empty(timeout=30_000)
    await tab.get_by_role("button", name="Stop").click()
    await expect(reply).to_have_attribute("data-state", "done", timeout=10_000)
    await expect(reply.locator(".stopped-note")).to_have_text("Stopped")
    await expect(tab.get_by_role("button", name="Send")).to_be_visible()
    conversation_id = tab.url.rsplit("/", 1)[1]
    stored = await tab.evaluate(f"fetch('/v1/chat/conversations/{conversation_id}').then(r => r.json())")
    assert stored["running_turn_id"] is None
    assert [m["status"] for m in stored["messages"] if m["role"] == "assistant"] == ["stopped"]
    await tab.reload()
    await expect(tab.locator(".message-assistant .stopped-note")).to_have_count(1)


async def test_sidebar_rename_delete_regenerate_and_language(
    tab: Page, web_url: str, sign_in_tab: SignInTab, chat_api: None
) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/chat")
    await tab.get_by_role("textbox", name="الرسالة").fill("ما عاصمة الأردن؟")
    await tab.keyboard.press("Enter")
    await expect(tab.locator(".message-assistant").last).to_have_attribute(
        "data-state", "done", timeout=30_000
    )
    sidebar = tab.get_by_test_id("conversations")
    await expect(sidebar.locator("li")).to_have_count(1)

    first_reply = await tab.locator(".message-assistant").last.get_attribute("data-turn-id")
    await tab.locator(".message-assistant").last.get_by_role("button", name="أعد التوليد").click()
    # the new reply takes the old one's place: the question is not repeated
    await expect(tab.locator(".message-assistant").last).not_to_have_attribute(
        "data-turn-id", first_reply or ""
    )
    await expect(tab.locator(".message-assistant").last).to_have_attribute(
        "data-state", "done", timeout=30_000
    )
    await expect(tab.locator(".message-assistant")).to_have_count(1)
    await expect(tab.locator(".message-user")).to_have_count(1)

    tab.once("dialog", lambda dialog: dialog.accept("عاصمة الأردن"))
    await tab.get_by_role("button", name="المحادثات (1)").click()  # the drawer, on a phone
    await sidebar.locator("summary").first.click()  # the conversation's actions menu
    await sidebar.get_by_role("button", name="إعادة التسمية").click()
    await expect(sidebar.get_by_role("link", name="عاصمة الأردن")).to_be_visible()
    await expect(tab.locator("#chat-title")).to_have_text("عاصمة الأردن")
    await tab.keyboard.press("Escape")  # closes the drawer
    await expect(tab.locator("#chat-sidebar")).to_be_hidden()

    await tab.get_by_test_id("lang-switch").click()
    await tab.wait_for_url("**?lang=en")
    assert await tab.evaluate("document.documentElement.dir") == "ltr"
    await expect(tab.locator(".message-assistant")).to_have_count(1)  # reloaded from the API
    await expect(tab.locator(".message-user")).to_have_count(1)
    await tab.get_by_test_id("lang-switch").click()
    await tab.wait_for_url("**?lang=ar")
    assert await tab.evaluate("document.documentElement.dir") == "rtl"
    await check_page(tab, "chat-conversation", "ar")

    tab.once("dialog", lambda dialog: dialog.accept())
    await tab.get_by_role("button", name="المحادثات (1)").click()
    await sidebar.locator("summary").first.click()
    await sidebar.get_by_role("button", name="حذف").click()
    await tab.wait_for_url(f"{web_url}/chat")
    await expect(sidebar.locator("li")).to_have_count(0)


async def test_a_failed_turn_says_why_after_a_reload_and_regenerate_retries_it(
    tab: Page, web_url: str, sign_in_tab: SignInTab, emulator: EmulatorControl, chat_api: None
) -> None:
    await emulator.fault("openai", "http_400", count=1, model="gpt-5-mini")
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/chat")
    await tab.get_by_role("textbox", name="الرسالة").fill("ما عاصمة الأردن؟")
    await tab.keyboard.press("Enter")
    live = tab.locator(".message-assistant").last  # the error in place, never an empty reply
    await expect(live.locator(".failed-note")).to_be_visible(timeout=30_000)
    await expect(live.get_by_role("button", name="أعد التوليد")).to_be_visible()
    await expect(live.get_by_role("button", name="نسخ")).to_be_hidden()
    await tab.wait_for_url(re.compile(r"/chat/[\w-]+$"))

    await tab.reload()
    failed = tab.locator(".message-assistant").last
    await expect(failed.locator(".failed-note")).to_have_text(
        "تعذّر على النموذج الرد الآن. يرجى المحاولة مرة أخرى."
    )
    await failed.get_by_role("button", name="أعد التوليد").click()
    await expect(tab.locator(".failed-note")).to_have_count(0)  # the new reply took its place
    reply = tab.locator(".message-assistant").last
    await expect(reply).to_have_attribute("data-state", "done", timeout=30_000)
    assert ARABIC.search(await body_text(tab))
    await expect(tab.locator(".message-user")).to_have_count(1)
