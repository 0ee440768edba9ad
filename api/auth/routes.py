"""Sign-in by magic link, sessions, and personal API keys (``/v1/auth``), plus the emailed
link ``GET /auth/verify``."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from api.auth.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentPrincipal, CurrentUser, RequestUser
from api.auth.schemas import (
    MagicLinkAccepted,
    MagicLinkRequest,
    RevokedCount,
    SessionPublic,
    SignedIn,
    UserPublic,
    UserUpdate,
    VerifyRequest,
)
from api.deps import SessionDep, SettingsDep, TemporalDep
from api.i18n import request_locale
from api.ratelimit import LimiterDep, client_ip
from core import accounts
from core.i18n import translate
from core.models import User
from core.settings import Settings
from workflows.starters import email_id, start_email

router = APIRouter(prefix="/v1/auth", tags=["auth"])
link_router = APIRouter(tags=["auth"])


@router.post("/magic-link", status_code=status.HTTP_202_ACCEPTED, response_model=MagicLinkAccepted)
async def request_magic_link(
    body: MagicLinkRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    limiter: LimiterDep,
) -> MagicLinkAccepted:
    """Always the same 202, whether or not the account existed (it is created on first request)."""
    email = accounts.normalize_email(body.email)
    await limiter.hit(settings.rate_limit_magic_link_ip, "magic-link-ip", client_ip(request))
    await limiter.hit(settings.rate_limit_magic_link_email, "magic-link-email", accounts.hash_secret(email))
    user = await accounts.get_or_create_user(session, email, body.locale or request_locale(request))
    next_path = _safe_next(body.next) if body.next else ""
    link = await accounts.issue_magic_link(session, settings, user, next_path if next_path != "/chat" else "")
    await session.commit()  # the link must exist before the email can be sent
    await start_email(
        temporal,
        settings,
        workflow_id=email_id(f"magic-link-{link.token_id}"),
        to=user.email,
        template="magic_link",
        locale=user.locale,
        context={
            "link_sealed": accounts.seal(settings, link.url),
            "minutes": settings.magic_link_ttl_minutes,
        },
        deliver_within_seconds=settings.magic_link_ttl_minutes * 60,
    )
    message = translate(
        "If this address can sign in, a link is on its way. It expires in {minutes} minutes.",
        request_locale(request),
        minutes=settings.magic_link_ttl_minutes,
    )
    return MagicLinkAccepted(message=message)


@router.post("/magic-link/verify", response_model=SignedIn)
async def verify_magic_link(
    body: VerifyRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> SignedIn:
    issued = await _sign_in(body.token, request, session, settings, limiter)
    set_session_cookies(response, settings, issued)
    return SignedIn(
        user=UserPublic.model_validate(issued.user),
        access_token=issued.access_token,
        expires_at=issued.expires_at,
    )


LINK_COOKIE = "pulse_link"  # a nonce tying the sign-in form to the page that showed it
LINK_COOKIE_MAX_AGE = 15 * 60


@link_router.get("/auth/verify", include_in_schema=False)
async def open_magic_link(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    token: Annotated[str, Query(max_length=200)] = "",
    next: Annotated[str, Query(max_length=500)] = "/chat",
) -> Response:
    """The emailed link opens a page and uses nothing: a mail scanner's GET (or a prefetch)
    cannot burn the link or sign anyone in. A valid link shows "Sign in as …" (a POST from the
    page); a used, expired or unknown one offers a new link, its email filled in."""
    await limiter.hit(settings.rate_limit_verify_ip, "verify-ip", client_ip(request))
    found = await accounts.inspect_magic_link(session, token)
    return _page_for(request, settings, found, token, _safe_next(next))


def _page_for(
    request: Request,
    settings: Settings,
    found: accounts.LinkState,
    token: str,
    target: str,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    """The link's page; a valid link's form gets a fresh nonce (and its cookie)."""
    nonce = secrets.token_urlsafe(24) if found.status == "valid" else ""
    response = _link_page(request, found, token, target, nonce, status_code=status_code)
    if nonce:
        response.set_cookie(
            LINK_COOKIE,
            nonce,
            max_age=LINK_COOKIE_MAX_AGE,
            httponly=True,
            secure=bool(settings.cookie_secure),
            samesite="strict",
            path=accounts.MAGIC_LINK_PATH,
        )
    return response


@link_router.post("/auth/verify", include_in_schema=False)
async def confirm_magic_link(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/chat",
    nonce: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Sign in from the link's page: single use and expiry as before; the form's nonce must
    match the page's cookie, so another site cannot post its own link (login CSRF)."""
    target = _safe_next(next)
    cookie = request.cookies.get(LINK_COOKIE, "")
    if not nonce or not hmac.compare_digest(nonce, cookie):  # not from our page: show it again
        await limiter.hit(settings.rate_limit_verify_ip, "verify-ip", client_ip(request))
        found = await accounts.inspect_magic_link(session, token)
        return _page_for(request, settings, found, token, target, status.HTTP_400_BAD_REQUEST)
    try:
        issued = await _sign_in(token, request, session, settings, limiter)
    except accounts.InvalidOrExpiredLink:
        found = await accounts.inspect_magic_link(session, token)
        return _link_page(request, found, token, target, "", status_code=status.HTTP_400_BAD_REQUEST)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    set_session_cookies(response, settings, issued)
    response.delete_cookie(LINK_COOKIE, path=accounts.MAGIC_LINK_PATH)
    return response


def _link_page(
    request: Request,
    found: accounts.LinkState,
    token: str,
    target: str,
    nonce: str,
    *,
    status_code: int = 200,
) -> Response:
    """The web package's page (installed by the app factory as ``app.state.signin_link_page``);
    JSON for API callers and apps without the web UI."""
    render = getattr(request.app.state, "signin_link_page", None)
    if found.status != "valid" and status_code == status.HTTP_200_OK:
        status_code = status.HTTP_400_BAD_REQUEST
    if render is not None and "application/json" not in request.headers.get("accept", ""):
        page: Response = render(request, found, token, target, nonce, status_code)
        return page
    if found.status != "valid":
        error = accounts.InvalidOrExpiredLink()
        message = translate(error.message, request_locale(request))
        body = {"code": error.code, "message": message, "status": found.status, "email": found.email}
        return JSONResponse(body, status_code=status_code)
    return JSONResponse({"status": "valid", "email": found.email, "next": target}, status_code=status_code)


@dataclass(frozen=True)
class _Issued:
    user: User
    session_id: str
    access_token: str
    expires_at: datetime


async def _sign_in(
    token: str, request: Request, session: SessionDep, settings: Settings, limiter: LimiterDep
) -> _Issued:
    await limiter.hit(settings.rate_limit_verify_ip, "verify-ip", client_ip(request))
    user = await accounts.consume_magic_link(session, token)
    issued = await accounts.create_session(
        session, settings, user, user_agent=request.headers.get("user-agent", ""), ip=client_ip(request)
    )
    request.state.user = RequestUser.of(user)
    return _Issued(user, issued.session.id, issued.access_token, issued.expires_at)


def _safe_next(target: str) -> str:
    """Only same-origin paths (no scheme, no //host, no backslashes or control characters)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return "/chat"
    if any(ord(c) < 32 or ord(c) == 127 for c in target) or target.startswith("/auth/"):
        return "/chat"
    return target


def set_session_cookies(response: Response, settings: Settings, issued: _Issued) -> None:
    max_age = settings.session_ttl_days * 24 * 3600
    secure = bool(settings.cookie_secure)
    response.set_cookie(
        SESSION_COOKIE, issued.access_token, max_age=max_age, httponly=True, secure=secure, samesite="lax"
    )
    response.set_cookie(
        CSRF_COOKIE,
        accounts.csrf_token(settings, issued.session_id),
        max_age=max_age,
        httponly=False,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, secure=bool(settings.cookie_secure), samesite="lax")


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: CurrentPrincipal, response: Response, session: SessionDep, settings: SettingsDep
) -> None:
    """Revoke this session (its JWT stops working at once) and clear the cookies."""
    if principal.session_id:
        await accounts.revoke_session(session, principal.user.id, principal.session_id)
    clear_session_cookies(response, settings)


@router.get("/me", response_model=UserPublic)
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)


@router.patch("/me", response_model=UserPublic)
async def update_me(body: UserUpdate, user: CurrentUser, session: SessionDep) -> UserPublic:
    if body.locale is not None:
        await accounts.set_locale(session, user, body.locale)
    if body.name is not None:
        user.name = body.name.strip()
    await session.flush()
    return UserPublic.model_validate(user)


@router.get("/sessions", response_model=list[SessionPublic])
async def list_sessions(principal: CurrentPrincipal, session: SessionDep) -> list[SessionPublic]:
    rows = await accounts.list_sessions(session, principal.user.id)
    return [
        SessionPublic(
            id=row.id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            user_agent=row.user_agent,
            ip=row.ip,
            current=row.id == principal.session_id,
        )
        for row in rows
    ]


@router.delete("/sessions", response_model=RevokedCount)
async def sign_out_everywhere(
    user: CurrentUser, response: Response, session: SessionDep, settings: SettingsDep
) -> RevokedCount:
    """Revoke every session of the user, this one included."""
    revoked = await accounts.revoke_all_sessions(session, user.id)
    clear_session_cookies(response, settings)
    return RevokedCount(revoked=revoked)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(session_id: str, user: CurrentUser, session: SessionDep) -> None:
    await accounts.revoke_session(session, user.id, session_id)
