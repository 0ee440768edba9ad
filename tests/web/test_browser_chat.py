"""The chat page in Chromium: the composer follows what is typed (dir="auto"), and stays in the
page's direction while empty, so the placeholder and caret start on the right in Arabic."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.web.conftest import SignInTab

pytestmark = pytest.mark.browser

DIRECTION = "(el) => getComputedStyle(el).direction"


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_composer_direction_follows_the_text(
    tab: Page, web_url: str, sign_in_tab: SignInTab, locale: str
) -> None:
    await sign_in_tab(locale)
    await tab.goto(f"{web_url}/chat")
    composer = tab.locator("#composer-input")
    page_dir = "rtl" if locale == "ar" else "ltr"
    assert await composer.evaluate(DIRECTION) == page_dir
    await composer.fill("Hello, how are you?")
    assert await composer.evaluate(DIRECTION) == "ltr"
    await composer.fill("مرحبا، كيف حالك؟ أريد شرح GPT-4 باختصار.")
    assert await composer.evaluate(DIRECTION) == "rtl"
    await composer.fill("")
    assert await composer.evaluate(DIRECTION) == page_dir
