"""Issue 24, item 1 in Chromium: while a reply is being written, the usage page and the chat
meter show what is available and, apart, what is held for replies in progress (ar and en,
390 px and 1280 px)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.conftest import EmulatorControl
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser

START_TURN = """() => import('/static/js/api.js').then(m =>
  m.api('/v1/chat/turns', {method: 'POST', body: {model: 'gpt-5-mini', message: 'Tell me a long story'}}))"""
HELD = {"ar": ("المتاح", "محجوزة لردود قيد الكتابة"), "en": ("available", "held for replies in progress")}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_usage_shows_available_and_held_apart(
    tab: Page, web_url: str, sign_in_tab: SignInTab, emulator: EmulatorControl, locale: str
) -> None:
    available, held = HELD[locale]
    await sign_in_tab(locale)
    await emulator.fault("openai", "slow", count=1, delay_s=0.4, model="gpt-5-mini")
    await tab.goto(f"{web_url}/usage?lang={locale}")
    await tab.evaluate(START_TURN)
    await tab.reload()
    tokens = tab.locator('.meter[data-unit="tokens"]')
    await expect(tokens.locator(".meter-note")).to_contain_text(available)
    await expect(tokens.locator(".meter-held")).to_contain_text(held)
    note = await tokens.locator(".meter-note").inner_text()
    assert not note.startswith("0 ") and " 0" not in note  # not "0 left" during a reply
    await check_page(tab, "usage-held-390", locale)
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "usage-held-1280", locale)
