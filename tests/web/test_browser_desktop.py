"""Every page at 1280 px too (issue 24), in Arabic and English, with the same checks as at
390 px (direction, font, no overflow, no console/CSP errors); screenshots
var/screenshots/<page>-1280-<locale>.png."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from core.accounts import grant_role
from core.db import Database
from tests.web.conftest import SignInTab, check_page
from tests.web.test_browser_shell import USER_PAGES, VISITOR_PAGES

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_every_page_at_1280(
    tab: Page, web_url: str, sign_in_tab: SignInTab, db: Database, locale: str
) -> None:
    await tab.set_viewport_size(DESKTOP)
    for name, path in VISITOR_PAGES.items():
        await tab.goto(f"{web_url}{path}?lang={locale}")
        await check_page(tab, f"{name}-1280", locale)
    email = await sign_in_tab(locale)
    async with db.session() as session:
        await grant_role(session, email, "support")
    for name, path in {**USER_PAGES, "support": "/support"}.items():
        await tab.goto(f"{web_url}{path}?lang={locale}")
        await check_page(tab, f"{name}-1280", locale)
