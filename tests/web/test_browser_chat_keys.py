"""Issue 24 item 11, the keyboard in Chromium: Shift+Enter adds a line (nothing is sent), Enter
sends, Esc stops a reply being written (billed as stopped)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.conftest import EmulatorControl
from tests.web.conftest import SignInTab

pytestmark = pytest.mark.browser


async def test_shift_enter_adds_a_line_enter_sends_and_esc_stops(
    tab: Page, web_url: str, sign_in_tab: SignInTab, emulator: EmulatorControl
) -> None:
    await emulator.fault("openai", "hang", count=1, after_tokens=5)
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/chat")
    textbox = tab.get_by_role("textbox", name="الرسالة")
    await textbox.fill("السطر الأول")
    await textbox.press("Shift+Enter")
    await textbox.press_sequentially("السطر الثاني")
    await expect(textbox).to_have_value("السطر الأول\nالسطر الثاني")
    await expect(tab.locator(".message")).to_have_count(0)  # Shift+Enter sent nothing
    await textbox.press("Enter")
    await expect(tab.locator(".message-user .message-body")).to_have_text("السطر الأول\nالسطر الثاني")
    reply = tab.locator(".message-assistant").last
    await expect(reply.locator(".message-body")).not_to_be_empty(timeout=30_000)
    await tab.keyboard.press("Escape")
    await expect(reply).to_have_attribute("data-state", "done", timeout=10_000)
    await expect(reply.locator(".stopped-note")).to_be_visible()
    conversation_id = tab.url.rsplit("/", 1)[1]
    stored = await tab.evaluate(f"fetch('/v1/chat/conversations/{conversation_id}').then(r => r.json())")
    assert [m["status"] for m in stored["messages"] if m["role"] == "assistant"] == ["stopped"]
