"""The caller's language: ?lang=, then the lang cookie, then the signed-in user's locale,
then Accept-Language; Arabic by default."""

from __future__ import annotations

from fastapi import Request

from core.i18n import LOCALES, locale_from_accept_language, normalize_locale


def request_locale(request: Request) -> str:
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate and candidate in LOCALES:
            return candidate
    user = getattr(request.state, "user", None)
    if user is not None and getattr(user, "locale", None) in LOCALES:
        return str(user.locale)
    return normalize_locale(locale_from_accept_language(request.headers.get("accept-language")))


async def locale_dependency(request: Request) -> str:
    """``request_locale`` as a dependency: async, so FastAPI calls it inline instead of in a
    worker thread (a thread hop per request for a few dictionary lookups)."""
    return request_locale(request)
