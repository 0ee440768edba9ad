"""Who is looking at a page: the ``pulse_session`` cookie checked with ``core.accounts`` (the same
rules as the API's cookie auth; pages are GETs so no CSRF check). A ``?lang=`` switch is saved
on the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core import accounts
from core.errors import Unauthorized
from core.i18n import LOCALES
from core.models import User

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
