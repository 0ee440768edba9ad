"""Issue 24, item 10 over HTTP: a rate limit reads "in about 10 minutes", the English Free
card does not read "Free / Free"."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from core.errors import RateLimited
from tests.conftest import make_settings

HTML = {"accept": "text/html"}


@pytest_asyncio.fixture(scope="module")
async def web() -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(make_settings(), run_worker=False)

    @app.get("/slow-down")
    async def slow_down() -> None:
        raise RateLimited(retry_after=593)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as session:
        yield session


async def test_a_rate_limit_page_says_minutes_not_seconds(web: httpx.AsyncClient) -> None:
    arabic = await web.get("/slow-down", headers=HTML)
    english = await web.get("/slow-down?lang=en", headers=HTML)
    assert arabic.status_code == 429 and arabic.headers["retry-after"] == "593"
    assert "حاول مجددًا خلال 10 دقائق" in arabic.text and "593" not in arabic.text
    assert "Try again in 10 minutes" in english.text


async def test_the_free_card_does_not_repeat_its_name(web: httpx.AsyncClient) -> None:
    english = (await web.get("/?lang=en", headers=HTML)).text
    card = english[english.index('data-plan="free"') :][:600]
    assert "No charge, ever" in card and card.count(">Free<") == 1
