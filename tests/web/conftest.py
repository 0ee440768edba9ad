"""Browser fixtures: Debian's Chromium driven by Playwright (never a downloaded browser), a
390 px phone viewport, screenshots under var/screenshots/, and page checks shared by tests."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

import worker as worker_module
from api.app import create_app
from core.settings import Settings
from tests.conftest import free_port, request_link
from tests.storage.conftest import s3_url  # noqa: F401 (moto's S3 server, for the S3 page tests)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}

# Text containers whose content is wider than their box (scrollWidth > clientWidth), skipping
# scroll containers on purpose (code blocks) and the 1px visually-hidden helpers.
OVERFLOW_JS = """
() => {
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.display === 'inline' || style.visibility === 'hidden') continue;
    if (['auto', 'scroll'].includes(style.overflowX) || el.clientWidth <= 1) continue;
    if (['SCRIPT', 'TEMPLATE', 'svg', 'SELECT'].includes(el.tagName)) continue;
    const hasText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!hasText && !['INPUT', 'TEXTAREA', 'BUTTON', 'A'].includes(el.tagName)) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const text = el.textContent.trim().slice(0, 40);
      found.push(`${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth} "${text}"`);
    }
  }
  for (const el of document.body.querySelectorAll('input, textarea, select, button, img, table, pre')) {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement.getBoundingClientRect();
    if (box.width && (box.left < parent.left - 1 || box.right > parent.right + 1)) {
      found.push(`${el.tagName}#${el.id} sticks out of its container`);
    }
  }
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth + 1) {
    found.push(`document: ${doc.scrollWidth} > ${window.innerWidth}`);
  }
  return found;
}
"""


FONT_LOADED_JS = """
() => [...document.fonts].some(f => f.family.includes('IBM Plex Sans Arabic') && f.status === 'loaded')
"""


@pytest_asyncio.fixture(scope="session")
async def web_url(settings: Settings, worker: worker_module.WorkerDeps) -> AsyncIterator[str]:
    """The real app whose public URL is its own address, so emailed links open in the browser."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"http_port": port, "public_url": url}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield url
    server.should_exit = True
    await task


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once per session)
        pytest.fail(f"{CHROMIUM} is missing: `make services` (apt-get install chromium) installs it")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh phone-sized context (no cookies), its console errors collected."""
    ctx = await browser.new_context(viewport=PHONE, locale="en-US", color_scheme="light")
    yield ctx
    await ctx.close()


def watch_errors(page: Page) -> Page:
    """Collect console errors, page errors and HTTP errors (>= 400) in ``page.errors``."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest_asyncio.fixture
async def tab(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that records console errors and CSP violations in ``tab.errors``."""
    page = watch_errors(await context.new_page())
    yield page
    await page.close()


SignInTab = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture
async def sign_in_tab(tab: Page, web_url: str) -> SignInTab:
    """``await sign_in_tab(locale="ar")``: the emailed link (from the dev mailbox) opened in the tab,
    which then holds the real session cookies. Returns the email address."""

    async def _sign_in(locale: str = "ar", email: str | None = None) -> str:
        email = email or f"web-{uuid.uuid4().hex[:12]}@example.com"
        async with httpx.AsyncClient(base_url=web_url, timeout=30) as anonymous:
            link = await request_link(anonymous, email, locale)
        assert link.startswith(web_url), link
        await tab.goto(link)  # the link's page (a GET signs nobody in) …
        await tab.get_by_test_id("signin-link-submit").click()  # … and its button
        await tab.wait_for_load_state("networkidle")
        return email

    return _sign_in


async def overflowing(page: Page) -> list[str]:
    result: list[str] = await page.evaluate(OVERFLOW_JS)
    return result


async def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def check_page(page: Page, name: str, locale: str, *, wait_idle: bool = True) -> None:
    """Direction, the Arabic font, no overflow at 390 px, no console/CSP errors; a screenshot."""
    await page.wait_for_load_state("networkidle" if wait_idle else "load")
    expected_dir = "rtl" if locale == "ar" else "ltr"
    assert await page.evaluate("document.documentElement.dir") == expected_dir
    assert await page.evaluate("document.documentElement.lang") == locale
    assert await page.evaluate("getComputedStyle(document.body).direction") == expected_dir
    await page.evaluate("document.fonts.ready")
    assert await page.evaluate(FONT_LOADED_JS), "the Arabic UI font did not load"
    assert await overflowing(page) == []
    await screenshot(page, f"{name}-{locale}")
    assert page.errors == []  # type: ignore[attr-defined]
