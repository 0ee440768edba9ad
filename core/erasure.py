"""Erasing an account once its deletion grace period is over (and the data-export archives
that outlived their keep period). Three steps, each idempotent, so a crash anywhere is finished
by the next run:

1. ``claim`` — the account is marked erased (``deleted_at``): it can no longer sign in or undo,
   its sessions and keys are revoked at once;
2. the stored objects it owns (``owned_objects``: uploads, job outputs, gallery thumbnails,
   video posters) are deleted from storage by the caller (core does not talk to storage);
3. ``erase_rows`` — conversations, CVs, decks, images, videos, files, API turns, sign-in links
   and pending email changes are deleted; the subscription is cancelled; the email and name are
   anonymised. Payments and the ledger (amounts, dates) stay, as the law on bookkeeping requires;
   they no longer name the person. ``delete_after`` is cleared last: the account is done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    ApiKey,
    ApiTurn,
    AuthSession,
    Conversation,
    Cv,
    EmailChange,
    GalleryImage,
    Job,
    JobKind,
    JobStatus,
    MagicLinkToken,
    SlideDeck,
    StoredFile,
    Subscription,
    User,
    Video,
)
from core.models.base import utcnow

StoredObject = tuple[str, str]  # (bucket, key)


def anonymous_email(user_id: str) -> str:
    return f"deleted-{user_id}@deleted.invalid"


async def accounts_to_erase(
    session: AsyncSession, now: datetime | None = None, limit: int = 100
) -> list[str]:
    """Accounts whose grace period is over, and those whose erasure started but did not finish."""
    now = now or utcnow()
    due = or_(User.deleted_at.is_(None) & (User.delete_after <= now), User.deleted_at.is_not(None))
    query = (
        select(User.id).where(User.delete_after.is_not(None), due).order_by(User.delete_after).limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def claim(session: AsyncSession, user_id: str, now: datetime | None = None) -> bool:
    """Step 1: True when the account is being erased (claimed now or by an earlier run)."""
    now = now or utcnow()
    user = (
        await session.execute(select(User).where(User.id == user_id).with_for_update())
    ).scalar_one_or_none()
    if user is None or user.delete_after is None:
        return False  # undone meanwhile, or already erased
    if user.deleted_at is None:
        if user.delete_after > now:
            return False
        user.deleted_at = now
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    await session.execute(delete(ApiKey).where(ApiKey.user_id == user_id))
    await session.flush()
    return True


async def owned_objects(session: AsyncSession, user_id: str) -> list[StoredObject]:
    """Step 2's list: every stored object the account's rows point at (deduplicated)."""
    found: set[StoredObject] = set()
    for bucket, key in (
        await session.execute(select(StoredFile.bucket, StoredFile.key).where(StoredFile.user_id == user_id))
    ).all():
        found.add((bucket, key))
    for (outputs,) in (await session.execute(select(Job.outputs).where(Job.user_id == user_id))).all():
        for output in outputs or []:
            found.add((output.get("bucket", "assets"), output["key"]))
    images = select(GalleryImage.key, GalleryImage.thumb_key).where(GalleryImage.user_id == user_id)
    for key, thumb in (await session.execute(images)).all():
        found.update({("assets", key), ("assets", thumb)})
    videos = select(Video.key, Video.poster_key).where(Video.user_id == user_id)
    for video_key, poster_key in (await session.execute(videos)).all():
        found.update(("assets", k) for k in (video_key, poster_key) if k)
    return sorted(found)


async def erase_rows(session: AsyncSession, user_id: str, now: datetime | None = None) -> bool:
    """Step 3 (after the objects are gone). False when the account was not claimed."""
    user = (
        await session.execute(select(User).where(User.id == user_id).with_for_update())
    ).scalar_one_or_none()
    if user is None or user.deleted_at is None or user.delete_after is None:
        return False
    for model in (Conversation, Cv, SlideDeck, GalleryImage, Video, StoredFile, ApiTurn, EmailChange):
        await session.execute(delete(model).where(model.user_id == user_id))
    await session.execute(delete(MagicLinkToken).where(MagicLinkToken.user_id == user_id))
    await session.execute(update(Job).where(Job.user_id == user_id).values(outputs=null()))
    await session.execute(
        update(Subscription).where(Subscription.user_id == user_id).values(cancel_at_period_end=True)
    )
    user.email = anonymous_email(user_id)
    user.name = ""
    user.delete_after = None
    await session.flush()
    return True


async def expired_exports(session: AsyncSession, keep: timedelta, now: datetime | None = None) -> list[Job]:
    """Data-export jobs whose archive outlived ``keep`` (their objects are deleted next)."""
    cutoff = (now or utcnow()) - keep
    query = select(Job).where(
        Job.kind == JobKind.export.value,
        Job.status == JobStatus.succeeded.value,
        Job.updated_at < cutoff,
        Job.outputs.is_not(None),
    )
    return list((await session.execute(query.limit(200))).scalars())
