"""Who is calling: ``CurrentUser``, ``OptionalUser``, ``SupportUser``, ``AdminUser``.

A request authenticates with ``Authorization: Bearer <JWT | personal API key>`` or with the
``pulse_session`` cookie; cookie requests with unsafe methods must also send the ``pulse_csrf``
cookie's value in the ``X-CSRF-Token`` header. A ``RequestUser`` snapshot of the caller is put on
``request.state.user`` (so errors come back in their language). Missing or invalid auth → 401
``unauthorized``; wrong role → 403 ``forbidden``; every authenticated request counts against
``rate_limit_api_user``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import structlog
from fastapi import Depends, Request

from api.deps import SessionDep, SettingsDep
from api.ratelimit import LimiterDep
from core import accounts
from core.errors import Forbidden, Unauthorized
from core.models import Role, User

SESSION_COOKIE = "pulse_session"
CSRF_COOKIE = "pulse_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True)
class RequestUser:
    """A detached snapshot of the caller on ``request.state.user``: safe to read in error handlers
    and templates even after the request's transaction rolled back."""

    id: str
    email: str
    name: str
    locale: str
    role: str

    @classmethod
    def of(cls, user: User) -> RequestUser:
        return cls(user.id, user.email, user.name, user.locale, user.role)


@dataclass(frozen=True)
class Principal:
    user: User
    method: Literal["cookie", "bearer", "api_key"]
    session_id: str | None = None
    api_key_id: str | None = None


async def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal | None:
    header = request.headers.get("authorization")
    principal: Principal | None
    if header:
        principal = await _from_bearer(header, session, settings)
    else:
        principal = await _from_cookie(request, session, settings)
    if principal is not None:
        request.state.user = RequestUser.of(principal.user)
        request.state.principal = principal
        structlog.contextvars.bind_contextvars(user_id=principal.user.id)
    return principal


async def _from_bearer(header: str, session: SessionDep, settings: SettingsDep) -> Principal:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized()
    if accounts.looks_like_api_key(token):
        by_key = await accounts.authenticate_api_key(session, token)
        if by_key is None:
            raise Unauthorized()
        return Principal(by_key[0], "api_key", api_key_id=by_key[1].id)
    by_jwt = await accounts.authenticate_session_token(session, settings, token)
    if by_jwt is None:
        raise Unauthorized()
    return Principal(by_jwt[0], "bearer", session_id=by_jwt[1])


async def _from_cookie(request: Request, session: SessionDep, settings: SettingsDep) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = await accounts.authenticate_session_token(session, settings, token)
    if found is None:
        return None
    user, session_id = found
    if request.method not in SAFE_METHODS and not accounts.csrf_matches(
        settings, session_id, request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)
    ):
        raise accounts.CsrfFailed()
    return Principal(user, "cookie", session_id=session_id)


OptionalPrincipal = Annotated[Principal | None, Depends(get_principal)]


async def require_principal(
    principal: OptionalPrincipal, limiter: LimiterDep, settings: SettingsDep
) -> Principal:
    if principal is None:
        raise Unauthorized()
    await limiter.hit(settings.rate_limit_api_user, "api-user", principal.user.id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]


async def current_user(principal: CurrentPrincipal) -> User:
    return principal.user


async def optional_user(principal: OptionalPrincipal) -> User | None:
    return principal.user if principal else None


async def support_user(principal: CurrentPrincipal) -> User:
    if not accounts.has_role(principal.user, Role.support, Role.admin):
        raise Forbidden()
    return principal.user


async def admin_user(principal: CurrentPrincipal) -> User:
    if not accounts.has_role(principal.user, Role.admin):
        raise Forbidden()
    return principal.user


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
SupportUser = Annotated[User, Depends(support_user)]
AdminUser = Annotated[User, Depends(admin_user)]
