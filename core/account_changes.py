"""Account changes a person makes themself: the sign-in email (confirmed by a link sent to the
new address) and deleting the account (scheduled with a grace period to undo; then erased by
core/erasure.py: conversations, files, sessions and keys gone, the subscription cancelled, the
email anonymised, payment records kept as the law on bookkeeping requires)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import get_user, get_user_by_email, hash_secret, normalize_email
from core.errors import AppError, Conflict, ValidationFailed
from core.models import EmailChange, User
from core.models.base import utcnow
from core.settings import Settings

EMAIL_CHANGE_PATH = "/account/email/confirm"
EMAIL_CHANGE_TTL = timedelta(hours=24)
DELETION_GRACE = timedelta(days=14)


class EmailTaken(Conflict):
    code = "email_taken"
    message = "Another account already uses this email address."


class SameEmail(ValidationFailed):
    code = "same_email"
    message = "This is already your sign-in email."


class InvalidEmailChangeLink(AppError):
    status_code = 400
    code = "invalid_link"
    message = "This confirmation link is invalid, used or expired. Ask for a new one on your account page."


class DeletionNotConfirmed(ValidationFailed):
    code = "deletion_not_confirmed"
    message = "Type your sign-in email to confirm that the account should be deleted."


@dataclass(frozen=True)
class IssuedEmailChange:
    change_id: str
    new_email: str
    url: str


async def request_email_change(
    session: AsyncSession, settings: Settings, user: User, new_email: str
) -> IssuedEmailChange:
    """A single-use link to confirm ``new_email`` (sent there); the old email stays until then."""
    email = normalize_email(new_email)
    if email == normalize_email(user.email):
        raise SameEmail()
    if await get_user_by_email(session, email) is not None:
        raise EmailTaken()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = EmailChange(
        user_id=user.id,
        new_email=email,
        token_hash=hash_secret(token),
        created_at=now,
        expires_at=now + EMAIL_CHANGE_TTL,
    )
    session.add(row)
    await session.flush()
    url = f"{settings.public_url.rstrip('/')}{EMAIL_CHANGE_PATH}?token={token}"
    return IssuedEmailChange(row.id, email, url)


async def confirm_email_change(session: AsyncSession, token: str) -> User:
    """Use the link once: the user signs in with the new email from now on."""
    if not token or len(token) > 200:
        raise InvalidEmailChangeLink()
    now = utcnow()
    claimed = (
        await session.execute(
            update(EmailChange)
            .where(
                EmailChange.token_hash == hash_secret(token),
                EmailChange.used_at.is_(None),
                EmailChange.expires_at > now,
            )
            .values(used_at=now)
            .returning(EmailChange.user_id, EmailChange.new_email)
        )
    ).first()
    user = await get_user(session, claimed.user_id) if claimed else None
    if claimed is None or user is None or user.deleted_at is not None:
        raise InvalidEmailChangeLink()
    if await get_user_by_email(session, claimed.new_email) is not None:
        raise EmailTaken()  # taken meanwhile
    user.email = claimed.new_email
    await session.flush()
    return user


async def schedule_deletion(
    session: AsyncSession, user: User, confirm_email: str, now: datetime | None = None
) -> User:
    """The confirmation step: the person types their email. Undoable until ``delete_after``."""
    if normalize_email(confirm_email) != normalize_email(user.email):
        raise DeletionNotConfirmed()
    user.delete_after = (now or utcnow()) + DELETION_GRACE
    await session.flush()
    return user


async def cancel_deletion(session: AsyncSession, user: User) -> User:
    user.delete_after = None
    await session.flush()
    return user
