"""Issue 24, item 9: the support console reads on a phone (cards, not tables) and at 1280 px,
with audit events labelled in the page's language and people shown by email, in ar and en."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from core.accounts import grant_role
from core.db import Database
from core.models import FailedRefund, Payment, User
from core.models.base import new_id
from tests.web.conftest import SignInTab, check_page

pytestmark = pytest.mark.browser

LABELS = {
    "ar": ("البحث عن حساب", "منح صلاحية", "رُفضت بطاقتك"),
    "en": ("Account looked up", "Role granted", "Your card was declined"),
}
REFUND_RETRY = {"ar": "أعد محاولة الاسترداد", "en": "Retry refund"}


@pytest.mark.parametrize("locale", ["ar", "en"])
async def test_support_console_on_a_phone_and_a_desktop(
    tab: Page, web_url: str, sign_in_tab: SignInTab, db: Database, locale: str
) -> None:
    email = await sign_in_tab(locale)
    async with db.session() as session:
        await grant_role(session, email, "support")
        owner = (await session.execute(select(User.id).where(User.email == email))).scalar_one()
        payment_id = new_id()
        session.add(
            Payment(
                id=payment_id, user_id=owner, kind="addon", item_id="images_10", amount_fils=1000,
                status="failed", result_code="800.100.152",
            )
        )  # fmt: skip
        await session.flush()
        session.add(
            FailedRefund(
                key=f"late:{payment_id}", payment_id=payment_id, user_id=owner, cause="late",
                cause_id=payment_id, amount_fils=1000, result_code="700.400.200",
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
    refund = tab.get_by_test_id("failed-refunds").locator(f'[data-payment="{payment_id}"]')
    await expect(refund).to_contain_text(email)
    await expect(refund.get_by_role("button")).to_have_text(REFUND_RETRY[locale])
    await check_page(tab, "support-390", locale)
    await tab.set_viewport_size({"width": 1280, "height": 900})
    await check_page(tab, "support-1280", locale)
