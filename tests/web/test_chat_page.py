"""Chat page pieces that do not need the chat API: the model selector from the catalog and
Markdown rendered server-side and sanitized with nh3."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import httpx
import pytest

from core import catalog
from core.catalog import MODELS
from tests.conftest import SignedIn
from web.chat import render_markdown


def test_markdown_is_sanitized() -> None:
    html = str(
        render_markdown(
            "# عنوان\n**غامق** و `code`\n\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
            "[bad](javascript:alert(1)) [good](https://example.com)\n\n```py\nprint('سلام')\n```"
        )
    )
    assert "<h1>عنوان</h1>" in html and "<strong>غامق</strong>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">good</a>' in html
    assert "<pre><code" in html


async def test_markdown_endpoint_needs_a_user(
    http: httpx.AsyncClient, sign_in_cookie: Callable[..., Awaitable[SignedIn]]
) -> None:
    assert (await http.post("/web/markdown", json={"text": "hi"})).status_code == 401
    me = await sign_in_cookie()
    response = await me.client.post("/web/markdown", json={"text": "**مرحبا** <b>x</b>"})
    assert response.status_code == 200
    assert response.json()["html"] == "<p><strong>مرحبا</strong> &lt;b&gt;x&lt;/b&gt;</p>\n"


async def test_model_selector_shows_provider_and_context(
    sign_in_cookie: Callable[..., Awaitable[SignedIn]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "utc_today", lambda: date(2026, 11, 26))  # the clock only
    me = await sign_in_cookie()
    arabic = (await me.client.get("/chat?lang=ar")).text
    english = (await me.client.get("/chat?lang=en")).text
    for model in MODELS.values():
        assert f'value="{model.id}"' in english
    # a retiring model says until when it takes new messages; once retired it is gone
    assert "Claude Sonnet 4.5 · ×8 · 200K context · until 29 November" in english
    assert "Claude Sonnet 4.5 · سياق 200\xa0ألف رمز · \u200e×8\u200e · حتى 29 تشرين الثاني" in arabic
    monkeypatch.setattr(catalog, "utc_today", lambda: date(2026, 11, 30))
    retired = (await me.client.get("/chat?lang=en")).text
    assert 'value="claude-sonnet-4-5"' not in retired and 'value="claude-sonnet-4-6"' in retired
    assert '<optgroup label="Anthropic">' in english
    assert "GPT-4o · ×5.6 · 128K context" in english
    assert "GPT-4o · سياق 128\xa0ألف رمز · \u200e×5.6\u200e" in arabic
    assert "GPT-5 mini · سياق" in arabic and "\u200e×2.7\u200e" in arabic  # brand names in Latin
    assert 'dir="auto"' in arabic
