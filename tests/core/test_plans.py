"""Plan and add-on names read like the rest of the product in Arabic: Latin digits, as Babel
formats prices and quotas for ar-JO."""

from __future__ import annotations

import re

from core.i18n import format_fils, format_number
from core.plans import ADDONS, PLANS

ARABIC_INDIC_DIGITS = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


def test_arabic_names_use_the_digits_prices_use() -> None:
    assert not ARABIC_INDIC_DIGITS.search(format_fils(9500, "ar") + format_number(200_000, "ar"))
    texts = [text for plan in PLANS.values() for text in (plan.name_ar, plan.description_ar)]
    texts += [addon.name_ar for addon in ADDONS.values()]
    assert [text for text in texts if ARABIC_INDIC_DIGITS.search(text)] == []
    assert ADDONS["tokens_200k"].name_ar == "200 ألف رمز"
