"""Issue 24, item 9: the support console reads on a phone (cards, not tables) and at 1280 px,
with audit events labelled in the page's language and people shown by email, in ar and en."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from core.accounts import grant_role
from core.db import Database
from core.models import Payment, User
from core.models.base import new_id
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser

LABELS = {
    "ar": ("البحث عن حساب", "منح صلاحية", "رُفضت بطاقتك"),
    "en": ("Account looked up", "Role granted", "Your card was declined"),
}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_support_console_on_a_phone_and_a_desktop(
    tab: Page, web_url: str, sign_in_tab: SignInTab, db: Database, locale: str
) -> None:
    email = await sign_in_tab(locale)
    async with db.session() as session:
        await grant_role(session, email, "support")
        owner = (await session.execute(select(User.id).where(User.email == email))).scalar_one()
        session.add(
            Payment(
                id=new_id(), user_id=owner, kind="addon", item_id="images_10", amount_fils=1000,
                status="failed", result_code="800.100.152",
            )
        )  # fmt: skip
        await session.commit()
    await tab.goto(f"{web_url}/support?email={email}&lang={locale}")
    looked_up, granted, declined = LABELS[locale]
    audit = tab.get_by_test_id("audit-log")
    await expect(audit.locator('[data-action="user.lookup"]').first).to_contain_text(looked_up)
    await expect(audit.locator('[data-action="role.granted"]').first).to_contain_text(granted)
    text = await audit.inner_text()
    assert "user.lookup" not in text and "role.granted" not in text and owner not in text
    if locale == "ar":
        # no English words around the emails (the log also lists other tests' people)
        assert "user" not in re.sub(r"\S+@\S+", "", text)
    await expect(tab.get_by_test_id("failed-payments")).to_contain_text(declined)
    await check_page(tab, "support-390", locale)
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "support-1280", locale)
