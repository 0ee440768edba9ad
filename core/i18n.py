"""Arabic and English strings for API errors, emails and pages (gettext catalogs in
``core/translations``; compiled to .mo by ``make``, read straight from .po when not compiled).
Also Babel formatting of numbers, dates and JOD amounts for ``ar-JO`` and ``en``."""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LOCALES = ("ar", "en")
DEFAULT_LOCALE = "ar"
BABEL_LOCALES = {"ar": "ar_JO", "en": "en"}
AMMAN = ZoneInfo("Asia/Amman")


def normalize_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    short = value.strip().lower().replace("_", "-").split("-")[0]
    return short if short in LOCALES else DEFAULT_LOCALE


def locale_from_accept_language(header: str | None) -> str | None:
    """First supported language in an Accept-Language header, by quality."""
    if not header:
        return None
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        pieces = part.strip().split(";q=")
        try:
            quality = float(pieces[1]) if len(pieces) > 1 else 1.0
        except ValueError:
            quality = 0.0
        ranked.append((quality, pieces[0]))
    for _quality, tag in sorted(ranked, key=lambda item: -item[0]):
        short = tag.strip().lower().split("-")[0]
        if short in LOCALES:
            return short
    return None


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext.NullTranslations:
    """Every catalog of the locale merged (one .po per domain: messages, accounts, ledger …)."""
    directory = TRANSLATIONS / normalize_locale(locale) / "LC_MESSAGES"
    merged: gettext.NullTranslations = gettext.NullTranslations()
    for po_path in sorted(directory.glob("*.po"), reverse=True):
        catalog = _load_catalog(po_path)
        catalog.add_fallback(merged)
        merged = catalog
    return merged


def _load_catalog(po_path: Path) -> gettext.GNUTranslations:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(message: str, locale: str | None, **params: Any) -> str:
    text = translations(normalize_locale(locale)).gettext(message)
    return text.format(**params) if params else text


def direction(locale: str | None) -> str:
    return "rtl" if normalize_locale(locale) == "ar" else "ltr"


def babel_locale(locale: str | None) -> BabelLocale:
    return BabelLocale.parse(BABEL_LOCALES[normalize_locale(locale)])


def format_fils(fils: int, locale: str | None) -> str:
    """A JOD amount held in integer fils (1 JOD = 1000 fils), formatted for the locale."""
    return format_currency(fils / 1000, "JOD", locale=babel_locale(locale), format_type="standard")


def format_number(value: int | float, locale: str | None) -> str:
    return format_decimal(value, locale=babel_locale(locale))


def format_when(moment: datetime, locale: str | None) -> str:
    return format_datetime(moment, format="medium", locale=babel_locale(locale), tzinfo=AMMAN)
