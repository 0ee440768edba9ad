"""The shell over HTTP: Arabic by default, ?lang= switches and is remembered, static files and
the font from its wheel, localized error pages for browsers and JSON for the API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from api.app import create_app
from core.errors import RateLimited
from tests.conftest import make_settings
from web.auth import signin_url
from web.messages import missing_arabic

PAGES = ["/", "/signin"]
HTML = {"accept": "text/html,application/xhtml+xml"}
CSS = Path(__file__).resolve().parents[2] / "web" / "static" / "css"
PHYSICAL = re.compile(
    r"(margin|padding|border|inset)-(left|right)|(^|[\s;{])(left|right)\s*:|float\s*:\s*(left|right)"
    r"|text-align\s*:\s*(left|right)|clear\s*:\s*(left|right)"
)


@pytest.fixture(scope="module")
def app() -> FastAPI:
    application = create_app(make_settings(), run_worker=False)

    @application.get("/boom-rate")
    async def rate() -> None:
        raise RateLimited(retry_after=7)

    @application.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    return application


@pytest_asyncio.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://web.test") as session:
        yield session


@pytest.mark.parametrize("path", PAGES)
async def test_pages_are_arabic_by_default(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path, headers={**HTML, "accept-language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "Content-Security-Policy" in response.headers
    assert "style=" not in response.text
    scripts = re.findall(r"<script([^>]*)>", response.text)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)


async def test_pages_for_users_send_visitors_to_sign_in(web: httpx.AsyncClient) -> None:
    for path in ("/usage", "/account", "/chat"):
        page = await web.get(path, headers=HTML)
        assert page.status_code == 303 and page.headers["location"] == signin_url(path)  # and back
        assert (await web.get(path)).status_code == 401


async def test_lang_switch_is_remembered_in_a_cookie(web: httpx.AsyncClient) -> None:
    switched = await web.get("/signin?lang=en")
    assert '<html lang="en" dir="ltr">' in switched.text
    assert "lang=en" in switched.headers["set-cookie"]
    assert 'href="/signin?lang=ar"' in switched.text
    later = await web.get("/")
    assert '<html lang="en" dir="ltr">' in later.text
    back = await web.get("/signin?lang=ar")
    assert '<html lang="ar" dir="rtl">' in back.text
    assert '<html lang="ar" dir="rtl">' in (await web.get("/")).text


async def test_pricing_in_jod_for_both_languages(web: httpx.AsyncClient) -> None:
    arabic = (await web.get("/?lang=ar")).text
    english = (await web.get("/?lang=en")).text
    assert "د.أ" in arabic and "JOD" in english
    assert "3.000" in english and "1,000,000" in english
    assert arabic.count('class="plan-card"') == english.count('class="plan-card"') >= 4
    assert 'data-addon="' in arabic


async def test_font_and_static_files(web: httpx.AsyncClient) -> None:
    font = await web.get("/static/fonts/IBMPlexSansArabic-Regular.ttf")
    assert font.status_code == 200 and font.headers["content-type"] == "font/ttf"
    assert font.content[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO")
    css = await web.get("/static/css/app.css")
    assert css.status_code == 200 and "@font-face" in css.text
    assert (await web.get("/static/js/app.js")).headers["content-type"].startswith("text/javascript")
    for bad in ("/static/fonts/..%2F__init__.py", "/static/js/.hidden", "/static/web/routes.py"):
        assert (await web.get(bad)).status_code == 404


def test_css_uses_logical_properties_only() -> None:
    for sheet in CSS.glob("*.css"):
        offenders = [line for line in sheet.read_text().splitlines() if PHYSICAL.search(line)]
        assert offenders == [], sheet.name


async def test_404_is_a_localized_page_for_browsers_and_json_for_the_api(web: httpx.AsyncClient) -> None:
    page = await web.get("/no-such-page", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "الصفحة غير موجودة" in page.text and 'dir="rtl"' in page.text
    english = await web.get("/no-such-page?lang=en", headers=HTML)
    assert "Page not found" in english.text
    api = await web.get("/v1/no-such-thing", headers=HTML)
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    plain = await web.get("/no-such-page", headers={"accept": "application/json"})
    assert plain.json()["code"] == "not_found"


async def test_429_and_500_pages(web: httpx.AsyncClient) -> None:
    limited = await web.get("/boom-rate", headers=HTML)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert "تمهّل قليلًا" in limited.text and "7" in limited.text
    failed = await web.get("/boom?lang=en", headers=HTML)
    assert failed.status_code == 500 and "Something went wrong" in failed.text
    assert (await web.get("/boom")).json()["code"] == "internal_error"


def test_every_web_string_has_arabic() -> None:
    assert missing_arabic() == []
