"""Rendering a page: the visitor's language (``?lang=`` switches and is remembered), the
signed-in user, strings the scripts need, and localized error pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_timedelta
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match

from core.i18n import DEFAULT_LOCALE, LOCALES, babel_locale, translate
from web.support_text import REFUND_JS_STRINGS
from web.templating import render
from web.ux_strings import UX_JS_STRINGS

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600

UNIT_NAMES = {"tokens": "Tokens", "images": "Images", "videos": "Videos"}
NOT_FOUND_TEXT = "The page you are looking for does not exist or has moved."
RATE_LIMIT_TEXT = "Too many requests. Try again {when}."

# Strings the ES modules show (looked up in the page's language, read from #i18n).
JS_STRINGS = (
    (
        "Something went wrong on our side. Please try again.",
        "Enter a valid email address.",
        "Too many requests. Try again in a moment.",
        "You have used {percent}% of your {unit} this period.",
        "You have used all your {unit} this period.",
        "{used} of {granted} used",
        "{remaining} left",
        "{unit} left: {remaining}",
        "Updated {time}",
        "Revoke",
        "This device",
        "Last used {time}",
        "Created {time}",
        "No sessions.",
        "No keys yet.",
        "Copied",
        "Tokens",
        "Images",
        "Videos",
        "Regenerate",
        "Copy",
        "Stopped",
        "Rename",
        "Delete",
        "New conversation",
        "Delete this conversation?",
        "New title",
        # attachments and "My files" (web/static/js/attach.js, files.js)
        "Remove",
        "{size} MB",
        "{size} KB",
        "The upload failed. Please try again.",
        "Ready",
        "This file was refused.",
        "Uploading…",
        "Uploading… {percent}%",
        "Checking for viruses…",
        "Attachments",
        "Attach",
        "Attach files",
        "Attached image: {name}",
        "Download",
        "Delete this file?",
        "Waiting for upload",
        "No files yet.",
        "{used} of {limit} used",
    )
    + UX_JS_STRINGS
    + REFUND_JS_STRINGS
)


def page_locale(request: Request) -> str:
    """``?lang=``, then the ``lang`` cookie, then the signed-in user's language, then Arabic.

    Pages do not follow Accept-Language: Arabic is the default until someone switches."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LOCALES:
            return str(candidate)
    user = getattr(request.state, "user", None)
    if getattr(user, "locale", None) in LOCALES:
        return str(user.locale)  # type: ignore[union-attr]
    return DEFAULT_LOCALE


def switch_url(request: Request, locale: str) -> str:
    """The current page in the other language."""
    params = dict(request.query_params)
    params["lang"] = "en" if locale == "ar" else "ar"
    return f"{request.url.path}?{urlencode(params)}"


def unit_name(unit: str, locale: str) -> str:
    return translate(UNIT_NAMES.get(unit, unit), locale)


def page_context(request: Request, page: str, locale: str) -> dict[str, Any]:
    state = getattr(request.app.state, "pulse", None)
    settings = getattr(state, "settings", None)
    return {
        "page": page,
        "user": getattr(request.state, "user", None),
        "switch_url": switch_url(request, locale),
        "js_strings": {text: translate(text, locale) for text in JS_STRINGS},
        "dev_mailbox": bool(getattr(settings, "is_dev", False)),
        "unit_name": lambda unit: unit_name(unit, locale),
        "has_usage_api": has_route(request, "GET", "/v1/usage/me"),
        "has_chat_api": has_route(request, "POST", "/v1/chat/turns"),
    }


def has_route(request: Request, method: str, path: str) -> bool:
    """Whether the app serves ``method path`` (pages light up as the domain APIs are merged)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.routes)


def remember_locale(request: Request, response: HTMLResponse) -> None:
    """Keep a ``?lang=`` choice in the visitor's cookie."""
    chosen = request.query_params.get("lang")
    if chosen in LOCALES and request.cookies.get(LANG_COOKIE) != chosen:
        response.set_cookie(
            LANG_COOKIE, str(chosen), max_age=LANG_COOKIE_MAX_AGE, path="/", samesite="lax", httponly=False
        )


def page(
    request: Request, template: str, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``template`` in the visitor's language and remember a ``?lang=`` switch."""
    locale = page_locale(request)
    body = render(template, locale, **page_context(request, name, locale), **context)
    response = HTMLResponse(body, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    remember_locale(request, response)
    return response


ERROR_HEADINGS = {
    404: "Page not found",
    429: "Slow down a little",
    500: "Something went wrong",
}


def wants_html(request: Request) -> bool:
    """A browser navigation (Accept: text/html) outside the JSON API."""
    path = request.url.path
    if path.startswith(("/v1/", "/static/")) or path == "/v1":
        return False
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status_code: int, message: str | None = None) -> HTMLResponse:
    """A localized HTML error page (404, 429, 500 and any other status)."""
    locale = page_locale(request)
    heading = translate(ERROR_HEADINGS.get(status_code, "The request could not be processed."), locale)
    if status_code == 404:
        message = translate(NOT_FOUND_TEXT, locale)
    return page(
        request,
        "error.html",
        "error",
        status_code=status_code,
        status=status_code,
        heading=heading,
        message=message or heading,
        request_id=getattr(request.state, "request_id", None),
    )


def html_error(request: Request, status_code: int, message: str, params: dict[str, Any]) -> Response | None:
    """The page for ``api.errors`` when a browser navigates; None for API callers (JSON).
    A page that needs a signed-in user sends visitors to the sign-in page."""
    if not wants_html(request):
        return None
    if status_code == 401:  # back to this page after signing in
        from web.auth import signin_url

        return RedirectResponse(
            signin_url(str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")),
            status_code=303,
        )
    locale = page_locale(request)
    if status_code == 429 and isinstance(params.get("retry_after"), int):
        return error_page(request, status_code, rate_limit_message(params["retry_after"], locale))
    return error_page(request, status_code, translate(message, locale, **params))


def rate_limit_message(retry_after: int, locale: str) -> str:
    """ "Try again in about 10 minutes" rather than "in 593 seconds"."""
    wait = timedelta(seconds=max(retry_after, 1))
    when = format_timedelta(wait, add_direction=True, threshold=1.5, locale=babel_locale(locale))
    return translate(RATE_LIMIT_TEXT, locale, when=when)
