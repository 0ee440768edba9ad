"""The video studio in Chromium at 390 px: start a render, reload the page mid-render, see the
progress bar re-attach and the player appear when the render is done; then close the tab
mid-render and find the video done (and downloadable) in a tab opened later."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import BrowserContext, Page
from sqlalchemy import select

import worker as worker_module
from core.db import Database
from core.models import User
from tests.conftest import EmulatorControl
from tests.video.helpers import render_time, set_videos
from tests.web.conftest import SignInTab, check_page, screenshot, watch_errors

pytestmark = pytest.mark.browser


async def until(tab: Page, expression: str, timeout: float = 20) -> None:
    """Poll ``expression`` in the page (wait_for_function needs 'unsafe-eval', which CSP refuses)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await tab.evaluate(expression):
        assert asyncio.get_running_loop().time() < deadline, f"never true: {expression}"
        await asyncio.sleep(0.1)


async def test_a_render_survives_a_reload_and_plays(
    tab: Page,
    web_url: str,
    sign_in_tab: SignInTab,
    db: Database,
    worker: worker_module.WorkerDeps,
    emulator: EmulatorControl,
    context: BrowserContext,
) -> None:
    email = await sign_in_tab("ar")
    async with db.session() as session:
        user_id = (await session.execute(select(User.id).where(User.email == email))).scalar_one()
    await set_videos(db, user_id, 2)
    await render_time(emulator, 5)
    await tab.goto(f"{web_url}/video")
    await tab.locator("[data-testid=videos-left]").filter(has_text="2").wait_for()
    await check_page(tab, "video-empty", "ar")

    await tab.fill("#video-prompt", "جمل يمشي في وادي رم عند الغروب")
    await tab.select_option("#video-model", "runway/veo3.1_fast")
    await tab.select_option("#video-duration", "4")
    await tab.click("#video-submit")
    bar = tab.locator("[data-testid=video-progress]")
    await bar.wait_for()
    await until(tab, "Number(document.querySelector('[data-testid=video-progress]')?.value) > 10")
    await screenshot(tab, "video-rendering-ar")

    await tab.reload()  # the job goes on; the page re-attaches to it
    await bar.wait_for(timeout=10_000)
    player = tab.locator("#videos video")
    await player.wait_for(timeout=30_000)
    assert await tab.locator("[data-testid=video-progress]").count() == 0
    await until(tab, "document.querySelector('#videos video').readyState >= 1")
    seconds = await tab.evaluate("document.querySelector('#videos video').duration")
    assert abs(seconds - 4) < 0.3
    await tab.locator("[data-testid=videos-left]").filter(has_text="1").wait_for()
    await check_page(tab, "video-done", "ar")

    # a closed tab: the render goes on without it, and a tab opened later shows it done
    await tab.fill("#video-prompt", "قارب في العقبة")
    await tab.click("#video-submit")
    await tab.locator("[data-testid=video-progress]").wait_for()
    await tab.close()
    later = watch_errors(await context.new_page())
    await later.goto(f"{web_url}/video")
    await until(later, "document.querySelectorAll('#videos video').length === 2", timeout=60)
    await later.locator("[data-testid=videos-left]").filter(has_text="0").wait_for()
    href = await later.locator("#videos a[download]").first.get_attribute("href")
    assert href
    download = await later.request.get(href)
    assert download.ok and (await download.body())[4:8] == b"ftyp"
    assert "attachment" in download.headers["content-disposition"]
    assert later.errors == []  # type: ignore[attr-defined]
    await later.close()
