"""The caller's language: ?lang=, then the lang cookie, then the signed-in user's locale,
then Accept-Language; Arabic by default."""

from __future__ import annotations

from fastapi import Request

from core.i18n import LOCALES, locale_from_accept_language, normalize_locale


def request_locale(request: Request) -> str:
    for candidate in (request.query_params.get("lang"), request.cookies.get("lang")):
        if candidate and candidate in LOCALES:
            return candidate
    user_locale = getattr(request.state, "user_locale", None)  # a plain string: safe after rollback
    if user_locale in LOCALES:
        return str(user_locale)
    return normalize_locale(locale_from_accept_language(request.headers.get("accept-language")))
