"""Accounts: users, roles, magic-link sign-in, sessions (revocable JWTs) and personal API keys.

Secrets are random (``secrets.token_urlsafe(32)``: 32 random bytes) and only their sha256 is
stored. The caller (request or activity) owns the transaction: nothing here commits.

PyJWT and cryptography's AES-GCM (~10 MB resident together) are imported by the functions
that use them: a worker that only unseals the odd email link pays for them then, not at start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import structlog
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, Forbidden, NotFound
from core.i18n import normalize_locale
from core.models import ApiKey, AuditLog, AuthSession, MagicLinkToken, Role, User
from core.models.base import new_id, utcnow
from core.settings import Settings

log = structlog.get_logger(__name__)

JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "pulse"
API_KEY_PREFIX = "pulse_"
MAGIC_LINK_PATH = "/auth/verify"


class InvalidOrExpiredLink(AppError):
    status_code = 400
    code = "invalid_or_expired_link"
    message = "This sign-in link is invalid, expired or already used. Request a new one."


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "Missing or invalid CSRF token. Reload the page and try again."


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "No account uses this email address."


def hash_secret(value: str) -> str:
    """What is stored for a token or key: its sha256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


# --- users and roles ---


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def emails_of(session: AsyncSession, user_ids: set[str]) -> dict[str, str]:
    """Each user's email, in one query (for lists of rows that name their owner)."""
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {row.id: row.email for row in rows}


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == normalize_email(email))
    return (await session.execute(query)).scalar_one_or_none()


async def get_or_create_user(session: AsyncSession, email: str, locale: str | None = None) -> User:
    """The user with this email (case-insensitive), created with ``locale`` on first sight."""
    found = await get_user_by_email(session, email)
    if found is not None:
        return found
    user = User(email=normalize_email(email), locale=normalize_locale(locale))
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:  # a concurrent request created it first
        found = await get_user_by_email(session, email)
        assert found is not None
        return found
    log.info("accounts.user_created", user_id=user.id)
    return user


async def set_locale(session: AsyncSession, user: User, locale: str) -> User:
    user.locale = normalize_locale(locale)
    await session.flush()
    return user


async def grant_role(session: AsyncSession, email: str, role: Role | str, *, actor: str = "cli") -> User:
    """Give the user with this email a role (user, support, admin); written to the audit log
    (``actor`` is a user id, or "cli" for an operator at the console)."""
    new_role = Role(role)
    user = await get_user_by_email(session, email)
    if user is None:
        raise UserNotFound()
    previous, user.role = user.role, new_role.value
    session.add(
        AuditLog(
            actor_id=actor[:32],
            action="role.granted",
            target_type="user",
            target_id=user.id,
            details={"previous": previous, "role": new_role.value},
        )
    )
    await session.flush()
    log.info("audit.role_changed", user_id=user.id, previous=previous, role=new_role.value, actor=actor)
    return user


def has_role(user: User, *roles: Role) -> bool:
    return user.role in {role.value for role in roles}


# --- magic links ---


@dataclass(frozen=True)
class IssuedLink:
    token_id: str
    token: str  # raw: only ever sent by email, never stored
    url: str
    expires_at: datetime


async def issue_magic_link(
    session: AsyncSession, settings: Settings, user: User, next_path: str = ""
) -> IssuedLink:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(minutes=settings.magic_link_ttl_minutes)
    row = MagicLinkToken(
        user_id=user.id, token_hash=hash_secret(token), created_at=now, expires_at=expires_at
    )
    session.add(row)
    await session.flush()
    url = f"{settings.public_url.rstrip('/')}{MAGIC_LINK_PATH}?token={token}"
    if next_path:  # where to go after signing in (a same-site path, checked by the caller)
        url += f"&next={quote(next_path, safe='')}"
    return IssuedLink(token_id=row.id, token=token, url=url, expires_at=expires_at)


@dataclass(frozen=True)
class LinkState:
    """What a sign-in link is, without using it: ``valid``, ``used``, ``expired`` or ``unknown``;
    ``email`` is its account's (to offer a new link), empty when unknown."""

    status: str
    email: str = ""


async def inspect_magic_link(session: AsyncSession, token: str) -> LinkState:
    """Read-only: opening the emailed link (or a mail scanner fetching it) must not burn it."""
    if not token or len(token) > 200:
        return LinkState("unknown")
    query = select(MagicLinkToken).where(MagicLinkToken.token_hash == hash_secret(token))
    row = (await session.execute(query)).scalar_one_or_none()
    user = await get_user(session, row.user_id) if row is not None else None
    if row is None or user is None:
        return LinkState("unknown")
    if row.used_at is not None:
        return LinkState("used", user.email)
    if row.expires_at <= utcnow():
        return LinkState("expired", user.email)
    return LinkState("valid", user.email)


async def consume_magic_link(session: AsyncSession, token: str) -> User:
    """Mark the link used (atomically, once) and return its user; else InvalidOrExpiredLink."""
    if not token or len(token) > 200:
        raise InvalidOrExpiredLink()
    now = utcnow()
    statement = (
        update(MagicLinkToken)
        .where(
            MagicLinkToken.token_hash == hash_secret(token),
            MagicLinkToken.used_at.is_(None),
            MagicLinkToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(MagicLinkToken.user_id)
    )
    user_id = (await session.execute(statement)).scalar_one_or_none()
    user = await get_user(session, user_id) if user_id else None
    if user is None:
        raise InvalidOrExpiredLink()
    return user


# --- sessions ---


@dataclass(frozen=True)
class IssuedSession:
    session: AuthSession
    access_token: str
    expires_at: datetime


async def create_session(
    session: AsyncSession, settings: Settings, user: User, *, user_agent: str = "", ip: str = ""
) -> IssuedSession:
    now = utcnow()
    expires_at = now + timedelta(days=settings.session_ttl_days)
    row = AuthSession(
        user_id=user.id, created_at=now, expires_at=expires_at, user_agent=user_agent[:300], ip=ip[:64]
    )
    session.add(row)
    await session.flush()
    return IssuedSession(row, encode_session_token(settings, row), expires_at)


def encode_session_token(settings: Settings, row: AuthSession) -> str:
    claims = {
        "sub": row.user_id,
        "sid": row.id,
        "aud": JWT_AUDIENCE,
        "iat": int(row.created_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
    }
    import jwt

    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)


def decode_session_token(settings: Settings, token: str) -> dict[str, Any] | None:
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["sub", "sid", "exp"]},
        )
    except jwt.PyJWTError:
        return None
    return claims


async def authenticate_session_token(
    session: AsyncSession, settings: Settings, token: str
) -> tuple[User, str] | None:
    """The user and session id behind a JWT; None when invalid, expired or revoked."""
    claims = decode_session_token(settings, token)
    if claims is None:
        return None
    session_id = str(claims["sid"])
    params = {"session_id": session_id, "user_id": str(claims["sub"]), "now": utcnow()}
    user = (await session.execute(_SESSION_USER, params)).scalar_one_or_none()
    return (user, session_id) if user is not None else None


# Built once: every authenticated request runs it (its cache key and SQL are reused).
_SESSION_USER = (
    select(User)
    .join(AuthSession, AuthSession.user_id == User.id)
    .where(
        AuthSession.id == bindparam("session_id"),
        AuthSession.user_id == bindparam("user_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > bindparam("now"),
    )
)


async def list_sessions(session: AsyncSession, user_id: str) -> list[AuthSession]:
    query = (
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.created_at.desc())
    )
    return list((await session.execute(query)).scalars())


async def revoke_session(session: AsyncSession, user_id: str, session_id: str) -> None:
    """Revoke one of the user's sessions; another user's (or unknown) id is NotFound."""
    row = await session.get(AuthSession, session_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise NotFound()
    row.revoked_at = utcnow()
    await session.flush()


async def revoke_all_sessions(session: AsyncSession, user_id: str) -> int:
    """Sign out everywhere: every live session of the user is revoked at once."""
    statement = (
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(AuthSession.id)
    )
    return len((await session.execute(statement)).all())


def csrf_token(settings: Settings, session_id: str) -> str:
    """The CSRF value bound to a session (signed double submit)."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(settings: Settings, session_id: str, cookie: str | None, header: str | None) -> bool:
    if not cookie or not header:
        return False
    expected = csrf_token(settings, session_id)
    return hmac.compare_digest(cookie, header) and hmac.compare_digest(header, expected)


async def purge_expired(session: AsyncSession, *, keep_days: int = 7) -> dict[str, int]:
    """Delete sign-in links and sessions that expired or were revoked more than ``keep_days`` ago."""
    cutoff = utcnow() - timedelta(days=keep_days)
    links = await session.execute(
        delete(MagicLinkToken).where(MagicLinkToken.expires_at < cutoff).returning(MagicLinkToken.id)
    )
    sessions = await session.execute(
        delete(AuthSession)
        .where(or_(AuthSession.expires_at < cutoff, AuthSession.revoked_at < cutoff))
        .returning(AuthSession.id)
    )
    return {"magic_links": len(links.all()), "sessions": len(sessions.all())}


# --- personal API keys ---


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    key: str  # shown once


async def create_api_key(session: AsyncSession, user_id: str, name: str) -> CreatedApiKey:
    visible = API_KEY_PREFIX + secrets.token_hex(4)
    key = f"{visible}_{secrets.token_urlsafe(32)}"
    key_id = new_id()
    row = ApiKey(
        id=key_id,
        user_id=user_id,
        name=name.strip()[:100],
        prefix=visible,
        key_hash=hash_secret(key),
        family_id=key_id,  # rotation keeps the family (core.apikeys)
    )
    session.add(row)
    await session.flush()
    log.info("accounts.api_key_created", user_id=user_id, api_key_id=row.id)
    return CreatedApiKey(row, key)


async def list_api_keys(session: AsyncSession, user_id: str) -> list[ApiKey]:
    query = (
        select(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.created_at.desc())
    )
    return list((await session.execute(query)).scalars())


async def revoke_api_key(session: AsyncSession, user_id: str, key_id: str) -> None:
    row = await session.get(ApiKey, key_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise NotFound()
    row.revoked_at = utcnow()
    await session.flush()


def looks_like_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


async def authenticate_api_key(session: AsyncSession, key: str) -> tuple[User, ApiKey] | None:
    found = (await session.execute(_KEY_USER, {"key_hash": hash_secret(key)})).one_or_none()
    if found is None:
        return None
    user, row = found[0], found[1]
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:  # expired keys are refused like revoked ones
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        row.last_used_at = now
    return user, row


# Built once: every request with a personal API key runs it (as ``_SESSION_USER``).
_KEY_USER = (
    select(User, ApiKey)
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


# --- sealing secrets that travel through workflow payloads (e.g. the sign-in link) ---


def _seal_key(settings: Settings) -> bytes:
    return hashlib.sha256(b"pulse-seal:" + settings.secret_key.get_secret_value().encode()).digest()


def seal(settings: Settings, value: str) -> str:
    """AES-GCM encrypt a short secret so Temporal history never holds it in the clear."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_seal_key(settings)).encrypt(nonce, value.encode(), b"pulse-seal")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(settings: Settings, sealed: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = base64.urlsafe_b64decode(sealed.encode())
    return AESGCM(_seal_key(settings)).decrypt(raw[:12], raw[12:], b"pulse-seal").decode()
