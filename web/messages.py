"""Every msgid the web pages use: from the templates (Babel's Jinja2 extractor) and from the
string tables in ``web.pages``. ``python -m web.messages`` lists the ones without Arabic."""

from __future__ import annotations

from pathlib import Path

from jinja2.ext import babel_extract

from core.i18n import translations
from core.payments import CAUSE_LABELS
from web.chat import CONTEXT_LABEL
from web.pages import ERROR_HEADINGS, JS_STRINGS, NOT_FOUND_TEXT, UNIT_NAMES
from web.support_text import AUDIT_LABELS
from web.templating import TEMPLATES
from web.ux_strings import UX_PAGE_STRINGS

OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def template_msgids(directory: Path = TEMPLATES) -> list[str]:
    found: list[str] = []
    for path in sorted(directory.glob("*.html")):
        with path.open("rb") as handle:
            for _line, _func, message, _comments in babel_extract(
                handle, ("_", "gettext", "tr"), [], OPTIONS
            ):
                text = message if isinstance(message, str) else (message or (None,))[0]
                if text:
                    found.append(text)
    return found


def msgids() -> list[str]:
    tables = [
        *JS_STRINGS,
        *ERROR_HEADINGS.values(),
        *UNIT_NAMES.values(),
        NOT_FOUND_TEXT,
        CONTEXT_LABEL,
        *UX_PAGE_STRINGS,
        *CAUSE_LABELS.values(),
        *AUDIT_LABELS.values(),
    ]
    return list(dict.fromkeys([*template_msgids(), *tables]))


def missing_arabic() -> list[str]:
    catalog = translations("ar")
    return [text for text in msgids() if catalog.gettext(text) == text]


if __name__ == "__main__":
    import sys

    sys.stdout.write("".join(f"{text}\n" for text in missing_arabic()))
