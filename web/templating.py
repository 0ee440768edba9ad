"""Jinja2 environments, one per locale, with the gettext extension wired to core.i18n and
Babel filters for numbers, dates and JOD amounts."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.i18n import (
    AMMAN,
    LOCALES,
    babel_locale,
    direction,
    format_fils,
    format_number,
    format_when,
    normalize_locale,
    translate,
    translations,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=len(LOCALES))
def environment(locale: str) -> Environment:
    """The template environment for one locale (cached; templates auto-reload in dev)."""
    locale = normalize_locale(locale)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["fils"] = lambda fils: format_fils(int(fils), locale)
    env.filters["number"] = lambda value: format_number(value, locale)
    env.filters["day"] = lambda moment: format_day(moment, locale)
    env.filters["when"] = lambda moment: format_when(moment, locale) if isinstance(moment, datetime) else ""
    env.globals["tr"] = lambda msgid, **params: translate(msgid, locale, **params)  # {brace} strings
    env.globals.update(locale=locale, dir=direction(locale), other_locale="en" if locale == "ar" else "ar")
    return env


def format_day(moment: datetime, locale: str) -> str:
    """A date (no time) in Amman, e.g. the day a plan renews."""
    return format_date(moment.astimezone(AMMAN), format="medium", locale=babel_locale(locale))


def render(template: str, locale: str, **context: Any) -> str:
    return environment(locale).get_template(template).render(**context)
