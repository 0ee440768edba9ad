"""Who is looking at a page: the ``pulse_session`` cookie checked with ``core.accounts`` (the same
rules as the API's cookie auth; pages are GETs so no CSRF check). A ``?lang=`` switch is saved
on the signed-in user."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import Response

from core import accounts
from core.accounts import LinkState
from core.errors import Unauthorized
from core.i18n import LOCALES
from core.models import User
from web.pages import page

SESSION_COOKIE = "pulse_session"  # same name as api.auth.deps.SESSION_COOKIE (web never imports api)


async def page_user(request: Request) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    state = getattr(request.app.state, "pulse", None)
    if not token or state is None:
        return None
    async with state.db.session() as session:
        found = await accounts.authenticate_session_token(session, state.settings, token)
        if found is None:
            return None
        user = found[0]
        chosen = request.query_params.get("lang")
        if chosen in LOCALES and user.locale != chosen:
            await accounts.set_locale(session, user, str(chosen))
    request.state.user = user
    return user


async def require_page_user(user: Annotated[User | None, Depends(page_user)]) -> User:
    """Visitors get 401, which ``web.pages.html_error`` turns into a redirect to /signin."""
    if user is None:
        raise Unauthorized()
    return user


PageUser = Annotated[User | None, Depends(page_user)]
RequiredUser = Annotated[User, Depends(require_page_user)]


LINK_NOTICES = {
    "used": "This sign-in link was already used. We can send you a new one.",
    "expired": "This sign-in link has expired. We can send you a new one.",
    "unknown": "This sign-in link is not valid. We can send you a new one.",
}


def signin_link_page(
    request: Request, found: LinkState, token: str, target: str, nonce: str, status_code: int
) -> Response:
    """What the emailed link opens (``api.auth.routes`` calls this; api never imports web):
    "Sign in as …" with a button that POSTs, or — for a used, expired or unknown link — the
    sign-in form with the email filled in, offering a new link that keeps ``target``."""
    if found.status == "valid":
        return page(
            request,
            "signin_link.html",
            "signin-link",  # no page script: the form posts by itself
            status_code=status_code,
            email=found.email,
            token=token,
            next_path=target,
            nonce=nonce,
        )
    return page(
        request,
        "signin.html",
        "signin",
        status_code=status_code,
        notice=LINK_NOTICES[found.status],
        email=found.email,
        next_path=target,
    )


def same_origin_path(target: str) -> str:
    """``target`` if it is a path on this site (no scheme, host, backslash or control
    character), else ""."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or target.startswith("/auth/"):
        return ""
    return target


def signin_url(next_path: str) -> str:
    """``/signin`` that comes back to ``next_path`` (a same-origin path) after signing in."""
    target = same_origin_path(next_path)
    return f"/signin?next={quote(target, safe='')}" if target and target != "/chat" else "/signin"
