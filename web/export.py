"""A conversation exported as Markdown or as a PDF (WeasyPrint, the Arabic UI font from its
wheel: the machines have no Arabic system fonts). Replies keep their Markdown; the PDF renders
it like the page does (nh3-sanitized), right-to-left on Arabic, code left-to-right."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import fontpkg_ibm_plex_sans_arabic
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from core import chat
from core.i18n import direction, format_when, translate
from web.chat import render_markdown

FONTS = fontpkg_ibm_plex_sans_arabic.ROOT / "files"
ROLE_LABELS = {"user": "You", "assistant": "Assistant"}


@dataclass(frozen=True)
class Transcript:
    title: str
    exported_at: datetime
    messages: list[tuple[str, str, str]]  # (role, model, Markdown text)


async def transcript(session: AsyncSession, user_id: str, conversation_id: str, now: datetime) -> Transcript:
    """The owner's conversation (another user's id answers 404, like the API)."""
    conversation = await chat.get_conversation(session, user_id, conversation_id)
    messages = await chat.conversation_messages(session, conversation.id)
    kept = [(m.role, m.model, m.content) for m in messages if m.content]
    return Transcript(conversation.title, now, kept)


def filename(item: Transcript, suffix: str) -> str:
    """``attachment`` header value: an ASCII fallback and the UTF-8 title (RFC 6266)."""
    stem = (item.title or "conversation").strip()[:80]
    return f"attachment; filename=\"conversation.{suffix}\"; filename*=UTF-8''{quote(stem)}.{suffix}"


def to_markdown(item: Transcript, locale: str) -> str:
    title = item.title or translate("New conversation", locale)
    lines = [
        f"# {title}",
        "",
        f"_{translate('Exported {time}', locale, time=format_when(item.exported_at, locale))}_",
        "",
    ]
    for role, model, text in item.messages:
        label = translate(ROLE_LABELS.get(role, role), locale)
        heading = f"## {label}" if role == "user" else f"## {label} ({model})"
        lines += [heading, "", text.strip(), ""]
    return "\n".join(lines)


ARABIC_OR_LATIN = re.compile(r"[\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]|[A-Za-z]")


def text_direction(text: str, fallback: str) -> str:
    """The direction of the first strong letter (WeasyPrint has no ``dir="auto"``)."""
    found = ARABIC_OR_LATIN.search(text)
    if found is None:
        return fallback
    return "ltr" if found.group().isascii() else "rtl"


def to_html(item: Transcript, locale: str) -> str:
    title = escape(item.title or translate("New conversation", locale))
    exported = escape(translate("Exported {time}", locale, time=format_when(item.exported_at, locale)))
    parts = []
    for role, model, text in item.messages:
        label = escape(translate(ROLE_LABELS.get(role, role), locale))
        body = f'<p class="plain">{escape(text)}</p>' if role == "user" else str(render_markdown(text))
        who = (
            f"{label}" if role == "user" else f'{label} <span class="model" dir="ltr">{escape(model)}</span>'
        )
        way = text_direction(text, direction(locale))
        parts.append(f'<section class="message {role}"><h2>{who}</h2><div dir="{way}">{body}</div></section>')
    regular, bold = (
        (FONTS / "IBMPlexSansArabic-Regular.ttf").as_uri(),
        (FONTS / "IBMPlexSansArabic-Bold.ttf").as_uri(),
    )
    return f"""<!doctype html><html lang="{locale}" dir="{direction(locale)}"><head><meta charset="utf-8">
<style>
@font-face {{ font-family: "Plex Arabic"; src: url("{regular}"); font-weight: 400; }}
@font-face {{ font-family: "Plex Arabic"; src: url("{bold}"); font-weight: 700; }}
@page {{ size: A4; margin: 18mm 16mm; }}
body {{ font-family: "Plex Arabic", sans-serif; font-size: 11pt; line-height: 1.6; color: #1a1c1e; }}
h1 {{ font-size: 18pt; margin: 0 0 2mm; }}
.when {{ color: #4f565e; margin: 0 0 6mm; }}
.message {{ border: 1px solid #d6d9dd; border-radius: 3mm; padding: 3mm 4mm; margin-block-end: 4mm; }}
.message.user {{ background: #e3f1ef; }}
h2 {{ font-size: 10pt; color: #0b5c55; margin: 0 0 1mm; }}
.plain {{ white-space: pre-wrap; margin: 0; }}
div[dir] {{ text-align: start; }}
p, li {{ unicode-bidi: plaintext; }}
pre {{ direction: ltr; text-align: left; background: #f3f4f5; padding: 2mm 3mm; border-radius: 2mm;
      white-space: pre-wrap; font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }}
code {{ direction: ltr; unicode-bidi: isolate; }}
</style></head><body><h1 dir="{text_direction(str(title), direction(locale))}">{title}</h1>
<p class="when">{exported}</p>
{"".join(parts)}</body></html>"""


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy: imported on the first export

    data: bytes = HTML(string=html).write_pdf()
    return data


async def to_pdf(item: Transcript, locale: str) -> bytes:
    """Rendered in a worker thread: WeasyPrint is CPU-bound."""
    return await asyncio.to_thread(_pdf, to_html(item, locale))
