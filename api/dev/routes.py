"""The dev mailbox: what the outbox email backend "sent" (mounted only when PULSE_ENV is dev or test).

``GET /dev/mailbox`` (HTML, Arabic first), ``GET /dev/mailbox.json`` (newest first; ``?to=`` filters
by recipient) and ``GET /dev/mailbox/{id}.html`` (the email's own HTML)."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from api.deps import SettingsDep
from api.i18n import request_locale
from core.errors import NotFound
from core.i18n import direction, translate
from providers.email.outbox import find_entry, read_outbox

router = APIRouter(prefix="/dev", tags=["dev"], include_in_schema=False)

PAGE = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="{{ lang }}" dir="{{ dir }}">
<head><meta charset="utf-8"><title>{{ _("Dev mailbox") }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="{{ nonce }}">
body { font-family: 'IBM Plex Sans Arabic', 'Noto Sans Arabic', Tahoma, sans-serif; margin: 2rem;
  max-inline-size: 60rem; margin-inline: auto; padding-inline: 1rem; color: #1f2933; }
article { border: 1px solid #d1d5db; border-radius: .5rem; padding: 1rem; margin-block: 1rem; }
pre { white-space: pre-wrap; unicode-bidi: plaintext; }
.meta { color: #6b7280; font-size: .9rem; }
</style></head>
<body>
<h1>{{ _("Dev mailbox") }}</h1>
<p class="meta">{{ _("Emails the app sent in development. Newest first.") }}</p>
{% for m in messages %}
<article data-to="{{ m.to }}">
  <h2 dir="auto">{{ m.subject }}</h2>
  <p class="meta">{{ _("To") }}: <bdi>{{ m.to }}</bdi> · <time>{{ m.sent_at }}</time></p>
  {% if m.link %}<p><a class="mailbox-link" href="{{ m.link }}">{{ _("Open the link") }}</a></p>{% endif %}
  <pre dir="auto" lang="{{ m.locale }}">{{ m.text }}</pre>
  <p><a href="/dev/mailbox/{{ m.id }}.html">{{ _("View HTML") }}</a></p>
</article>
{% else %}
<p>{{ _("No emails yet.") }}</p>
{% endfor %}
</body></html>"""
)
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; font-src *; frame-ancestors 'self'"
)


def _messages(settings: SettingsDep, to: str | None) -> list[dict[str, Any]]:
    entries = read_outbox(settings.outbox_dir, limit=200)
    if to:
        entries = [entry for entry in entries if entry.to.lower() == to.strip().lower()]
    return [asdict(entry) for entry in entries]


@router.get("/mailbox.json")
async def mailbox_json(settings: SettingsDep, to: str | None = None) -> list[dict[str, Any]]:
    """Newest first: id, to, subject, text, html, link, locale, sent_at."""
    return _messages(settings, to)


@router.get("/mailbox", response_class=HTMLResponse)
async def mailbox(request: Request, settings: SettingsDep, to: str | None = None) -> HTMLResponse:
    locale = request_locale(request)
    nonce = secrets.token_urlsafe(16)
    html = PAGE.render(
        messages=_messages(settings, to),
        lang=locale,
        dir=direction(locale),
        nonce=nonce,
        _=lambda message: translate(message, locale),
    )
    csp = f"default-src 'self'; style-src 'nonce-{nonce}'; frame-ancestors 'none'; base-uri 'none'"
    return HTMLResponse(html, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})


@router.get("/mailbox/{entry_id}.html", response_class=HTMLResponse)
async def mailbox_email(entry_id: str, settings: SettingsDep) -> HTMLResponse:
    entry = find_entry(settings.outbox_dir, entry_id)
    if entry is None:
        raise NotFound()
    return HTMLResponse(
        entry.html, headers={"Content-Security-Policy": EMAIL_CSP, "Cache-Control": "no-store"}
    )
