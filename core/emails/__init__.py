"""Transactional emails rendered in Arabic or English (HTML + plain text), from Jinja2 templates.

Adding an email = dropping three files into ``core/emails/templates/``:
``<name>.subject`` (one line), ``<name>.txt`` and ``<name>.html`` (``{% extends "_layout.html" %}``),
with every sentence written as ``{{ _("English msgid", param=value) }}`` and its Arabic in your
domain's catalog (``core/translations/ar/LC_MESSAGES/<domain>.po``). Templates get ``locale``,
``dir``, ``lang``, ``public_url``, ``product`` and the caller's context.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.i18n import direction, format_fils, format_number, format_when, normalize_locale, translate

TEMPLATES = Path(__file__).resolve().parent / "templates"
ARABIC_FONT_STACK = (
    "'IBM Plex Sans Arabic', 'Noto Sans Arabic', 'Segoe UI', Tahoma, 'Geeza Pro', Arial, sans-serif"
)
LATIN_FONT_STACK = "'IBM Plex Sans Arabic', 'Segoe UI', Helvetica, Arial, sans-serif"


class UnknownEmailTemplate(LookupError):
    """No ``<name>.subject/.txt/.html`` set in core/emails/templates."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    locale: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def available_templates() -> list[str]:
    return sorted(path.stem for path in TEMPLATES.glob("*.subject"))


def render_email(name: str, locale: str | None, **context: Any) -> RenderedEmail:
    """Render the named email in ``locale`` (ar or en)."""
    if name not in available_templates():
        raise UnknownEmailTemplate(name)
    lang = normalize_locale(locale)
    values = {**_globals(lang, context.get("public_url", "")), **context}
    env = environment()
    subject = env.get_template(f"{name}.subject").render(values)
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=env.get_template(f"{name}.txt").render(values).strip() + "\n",
        html=env.get_template(f"{name}.html").render(values),
        locale=lang,
    )


def _globals(lang: str, public_url: str) -> dict[str, Any]:
    def gettext(message: str, **params: Any) -> str:
        return translate(message, lang, **params)

    return {
        "_": gettext,
        "locale": lang,
        "lang": lang,
        "dir": direction(lang),
        "align": "right" if direction(lang) == "rtl" else "left",
        "font_stack": ARABIC_FONT_STACK if lang == "ar" else LATIN_FONT_STACK,
        "public_url": public_url.rstrip("/"),
        "product": gettext("Pulse AI Studio"),
        "fils": lambda amount: format_fils(int(amount), lang),
        "number": lambda value: format_number(value, lang),
        "when": lambda moment: format_when(moment, lang),
    }
