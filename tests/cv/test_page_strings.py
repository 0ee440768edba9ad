"""Every string the CV page's scripts show has its Arabic translation (cv.po)."""

from __future__ import annotations

from core.i18n import translate
from web.cv import JS_STRINGS, cv_strings


def test_every_cv_page_string_is_translated_to_arabic() -> None:
    missing = [text for text in JS_STRINGS if translate(text, "ar") == text]
    assert missing == []
    strings = cv_strings("ar")
    assert set(strings["headings"]) == set(strings["sections"]) and all(strings["headings"].values())
    assert strings["t"]["Move up"] == "إلى الأعلى"
