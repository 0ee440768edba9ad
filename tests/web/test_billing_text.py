"""Issue 24, item 6: billing in words (result classes, item names, plan card actions)."""

from __future__ import annotations

from typing import Any

import pytest

from core import subscriptions
from core.db import Database
from core.models import Payment
from web.billing_text import item_name, plan_action, result_kind


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        ("succeeded", "000.100.110", "paid"),
        ("failed", "800.100.152", "declined"),
        ("failed", "100.390.105", "three_d_secure"),
        ("failed", "000.400.101", "three_d_secure"),
        ("failed", "900.100.300", "bank"),
        ("failed", "100.100.303", "declined"),  # card expired
        ("failed", "200.300.404", "failed"),
        ("expired", None, "expired"),
        ("pending", "000.200.000", "pending"),
        ("created", None, "waiting"),
    ],
)
def test_result_kinds(status: str, code: str | None, kind: str) -> None:
    assert result_kind(Payment(status=status, result_code=code, kind="addon", item_id="x")) == kind


def test_item_names_come_from_the_catalog() -> None:
    assert item_name(Payment(kind="addon", item_id="images_10"), "ar") == "10 صور"
    assert item_name(Payment(kind="addon", item_id="images_10"), "en") == "10 images"
    assert item_name(Payment(kind="plan", item_id="starter"), "ar") == "البداية"
    assert item_name(Payment(kind="plan", item_id="gone"), "en") == "gone"


def test_plan_actions() -> None:
    assert plan_action("pro", "pro", True).kind == "current"
    assert plan_action("pro", "free", False).kind == "upgrade"
    assert plan_action("starter", "pro", True).kind == "downgrade"
    assert plan_action("starter", "pro", False).kind == "upgrade"  # cancelled: a new purchase


async def test_plan_cards_on_pro_say_current_upgrade_and_switch_at_period_end(
    sign_in_cookie: Any, db: Database
) -> None:
    me = await sign_in_cookie(locale="en")
    async with db.session() as session:
        await subscriptions.set_plan(session, me.user_id, "pro", key="test-pro")
        await session.commit()
    english = (await me.client.get("/billing?lang=en")).text
    arabic = (await me.client.get("/billing?lang=ar")).text
    assert 'data-change-plan="starter"' in english and "Switch at period end" in english
    assert "You keep Pro until" in english and "then Starter starts" in english
    assert 'data-testid="plan-current"' in english and 'data-checkout="plan:creator"' in english
    assert "Upgrade · pay" in english and "Free / Free" not in english
    assert "التحويل في نهاية الفترة" in arabic and "تبقى على باقة" in arabic
