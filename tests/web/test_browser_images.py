"""The image studio in Chromium at 390 px: generate an image, open it, edit it with a mask drawn
on the canvas; the gallery, progress and quota follow along."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy import select

import worker as worker_module
from core.db import Database
from core.models import GalleryImage, User
from providers.storage import ASSETS, object_key
from tests.conftest import EmulatorControl
from tests.images.helpers import set_images
from tests.web.conftest import SignInTab, check_page, screenshot

pytestmark = pytest.mark.browser


async def test_generate_then_edit_with_a_drawn_mask(
    tab: Page,
    web_url: str,
    sign_in_tab: SignInTab,
    db: Database,
    worker: worker_module.WorkerDeps,
    emulator: EmulatorControl,
) -> None:
    email = await sign_in_tab("ar")
    async with db.session() as session:
        user_id = (await session.execute(select(User.id).where(User.email == email))).scalar_one()
    await set_images(db, user_id, 5)
    await tab.goto(f"{web_url}/images")
    await tab.locator("[data-testid=images-left]").filter(has_text="5").wait_for()
    await check_page(tab, "images-empty", "ar")

    await tab.fill("#image-prompt", "فانوس في البتراء")
    await tab.select_option("#image-size", "1024x1024")
    await tab.click("#image-submit")
    await tab.locator("#gallery li").first.wait_for(timeout=30_000)
    await tab.locator("[data-testid=images-left]").filter(has_text="4").wait_for()

    await tab.locator("#gallery .gallery-item").first.click()
    await tab.locator("#viewer[open]").wait_for()
    await screenshot(tab, "images-viewer-ar")
    await tab.click("#viewer-edit")
    canvas = tab.locator("[data-testid=mask-canvas]")
    await tab.wait_for_function("document.getElementById('mask-canvas').width === 1024")
    box = await canvas.bounding_box()
    assert box is not None
    await tab.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    await tab.mouse.down()
    await tab.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.8, steps=8)
    await tab.mouse.up()
    await tab.fill("#image-prompt", "أضف قمرًا فوق الفانوس")
    await screenshot(tab, "images-editing-ar")
    await tab.click("#image-submit")
    await tab.locator("#gallery li").nth(1).wait_for(timeout=30_000)
    await check_page(tab, "images-gallery", "ar")

    async with db.session() as session:
        rows = list(
            (
                await session.execute(
                    select(GalleryImage)
                    .where(GalleryImage.user_id == user_id)
                    .order_by(GalleryImage.created_at)
                )
            ).scalars()
        )
    assert len(rows) == 2 and rows[1].source_image_id == rows[0].id
    mask = await worker.storage.get(ASSETS, object_key(user_id, "image", rows[1].job_id, "mask.png"))
    assert mask.startswith(b"\x89PNG")
