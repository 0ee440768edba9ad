"""The account page shows each key's spend this period (Chromium against the real app)."""

from __future__ import annotations

import openai
import pytest
from playwright.async_api import Page

from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser


async def test_account_page_shows_per_key_usage(tab: Page, web_url: str, sign_in_tab: SignInTab) -> None:
    await sign_in_tab("ar")
    await tab.goto(f"{web_url}/account")
    await tab.get_by_label("اسم المفتاح").fill("محرر الشيفرة")
    await tab.get_by_role("button", name="أنشئ مفتاحًا").click()
    secret = tab.locator("#key-secret")
    await secret.wait_for(state="visible")
    key = (await secret.text_content()) or ""
    base_url = await tab.locator("#openai-base-url").text_content()
    assert base_url == f"{web_url}/openai/v1"
    async with openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0) as sdk:
        reply = await sdk.chat.completions.create(
            model="gpt-5-mini", messages=[{"role": "user", "content": "مرحبا"}], max_tokens=64
        )
        await sdk.images.generate(model="gpt-image-1", prompt="شروق فوق وادي رم")  # 1 of Free's 2
    assert reply.usage is not None and reply.usage.model_extra is not None
    studio = reply.usage.model_extra["studio_tokens"]
    await tab.reload()
    line = tab.get_by_test_id("key-usage")
    await line.wait_for()
    expected = f"هذه الفترة: {studio} رمزًا من رموز الاستوديو، 2 طلبًا · 1 صورة"
    assert await line.text_content() == expected
    await check_page(tab, "account-key-usage", "ar")
