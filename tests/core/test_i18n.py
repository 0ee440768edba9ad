"""Every user-facing string exists in Arabic: each error message has an Arabic translation."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime

import core
from core.errors import AppError
from core.i18n import format_fils, format_when, locale_from_accept_language, translate, translations


def all_error_classes() -> list[type[AppError]]:
    for module in pkgutil.walk_packages(core.__path__, "core."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[AppError]] = []
    pending = [AppError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_message_has_arabic() -> None:
    catalog = translations("ar")
    missing = [cls.__name__ for cls in all_error_classes() if catalog.gettext(cls.message) == cls.message]
    assert missing == []


def test_translate_with_params() -> None:
    assert "30" in translate("Too many requests. Try again in {retry_after} seconds.", "ar", retry_after=30)
    assert translate("Not found.", "en") == "Not found."
    assert translate("Not found.", "ar") == "غير موجود."


def test_accept_language() -> None:
    assert locale_from_accept_language("fr-FR, en;q=0.8, ar;q=0.9") == "ar"
    assert locale_from_accept_language("en-US,en;q=0.9") == "en"
    assert locale_from_accept_language("de") is None


def test_jod_amounts_and_dates() -> None:
    assert "3.000" in format_fils(3000, "en") and "JOD" in format_fils(3000, "en")
    assert "د.أ" in format_fils(5000, "ar")
    assert "2026" in format_when(datetime(2026, 1, 2, 10, tzinfo=UTC), "ar")
