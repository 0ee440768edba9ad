"""A person's data, as they may download it (Jordan's Personal Data Protection Law, 2023):
profile, sessions and keys (without secrets), conversations with their messages, jobs and what
they produced, files, CVs, slide decks, images, videos, payments, the subscription and every
ledger entry (usage). ``export_document`` is the archive's ``data.json``; ``archive_objects``
names the stored files the archive carries next to it (uploads and job outputs).

Built by ``DataExportWorkflow`` (workflows/data_export.py) on the job pipeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, NotFound
from core.models import (
    ApiKey,
    AuthSession,
    ChatMessage,
    Conversation,
    Cv,
    CvVersion,
    FileStatus,
    GalleryImage,
    Job,
    JobKind,
    JobStatus,
    LedgerEntry,
    LedgerGrant,
    Payment,
    SlideDeck,
    StoredFile,
    Subscription,
    User,
    Video,
)
from core.models.base import Base, utcnow

FORMAT_VERSION = 1
EXPORT_KEEP = timedelta(days=7)  # the archive is offered (and kept) this long
ARCHIVE_NAME = "pulse-data.zip"
# Columns never exported: secrets (hashes of tokens and keys), payment-provider handles.
SECRET_COLUMNS = frozenset({"token_hash", "key_hash", "registration_id", "key", "thumb_key", "poster_key"})


class ExportNotFound(NotFound):
    code = "export_not_found"
    message = "This data export was not found."


class ExportExpired(AppError):
    status_code = 410
    code = "export_expired"
    message = "This download has expired. Ask for a new export on your account page."


class ExportNotReady(AppError):
    status_code = 409
    code = "export_not_ready"
    message = "Your data export is still being prepared. We will email you when it is ready."


def export_workflow_id(job_id: str) -> str:
    return f"export-{job_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_dict(row: Base, skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every column of ``row`` as JSON-ready values, secrets left out."""
    hidden = SECRET_COLUMNS.union(skip)
    columns = row.__table__.columns
    return {c.key: _plain(getattr(row, c.key)) for c in columns if c.key not in hidden}


async def _rows(session: AsyncSession, model: type[Base], user_id: str, order: Any) -> list[Any]:
    query = select(model).where(model.user_id == user_id).order_by(order)  # type: ignore[attr-defined]
    return list((await session.execute(query)).scalars())


async def _conversations(session: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    conversations = await _rows(session, Conversation, user_id, Conversation.created_at)
    messages = await session.execute(
        select(ChatMessage)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(Conversation.user_id == user_id)
        .order_by(ChatMessage.created_at, ChatMessage.role.desc())
    )
    by_conversation: dict[str, list[dict[str, Any]]] = {}
    for message in messages.scalars():
        item = row_dict(message, skip={"conversation_id"})
        by_conversation.setdefault(message.conversation_id, []).append(item)
    return [
        {**row_dict(c, skip={"user_id"}), "messages": by_conversation.get(c.id, [])} for c in conversations
    ]


async def _cvs(session: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    cvs = await _rows(session, Cv, user_id, Cv.created_at)
    versions = await session.execute(
        select(CvVersion)
        .join(Cv, Cv.id == CvVersion.cv_id)
        .where(Cv.user_id == user_id)
        .order_by(CvVersion.version)
    )
    by_cv: dict[str, list[dict[str, Any]]] = {}
    for version in versions.scalars():
        by_cv.setdefault(version.cv_id, []).append(row_dict(version, skip={"cv_id"}))
    return [{**row_dict(cv, skip={"user_id"}), "versions": by_cv.get(cv.id, [])} for cv in cvs]


def _job(job: Job) -> dict[str, Any]:
    item = row_dict(job, skip={"user_id", "outputs"})
    item["outputs"] = [
        {"name": o["name"], "content_type": o["content_type"], "size": o["size"], "path": output_path(job, o)}
        for o in job.outputs or []
    ]
    return item


def output_path(job: Job, output: dict[str, Any]) -> str:
    """Where a job's output sits in the archive."""
    return f"outputs/{job.kind}/{job.id}/{output['name']}"


def file_path(stored: StoredFile) -> str:
    return f"files/{stored.id}/{stored.name.replace('/', '_')}"


async def export_document(session: AsyncSession, user_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The archive's ``data.json``."""
    user = await session.get(User, user_id)
    if user is None:
        raise ExportNotFound()
    files = await _rows(session, StoredFile, user_id, StoredFile.created_at)
    jobs = [j for j in await _rows(session, Job, user_id, Job.created_at) if j.kind != JobKind.export.value]
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": (now or utcnow()).isoformat(),
        "profile": row_dict(user, skip={"deleted_at"}),
        "sessions": [
            row_dict(s, skip={"user_id"})
            for s in await _rows(session, AuthSession, user_id, AuthSession.created_at)
        ],
        "api_keys": [
            row_dict(k, skip={"user_id"}) for k in await _rows(session, ApiKey, user_id, ApiKey.created_at)
        ],
        "conversations": await _conversations(session, user_id),
        "jobs": [_job(job) for job in jobs],
        "files": [
            {
                **row_dict(f, skip={"user_id", "bucket"}),
                "path": file_path(f) if f.status == FileStatus.ready.value else None,
            }
            for f in files
        ],
        "cvs": await _cvs(session, user_id),
        "slide_decks": [
            row_dict(d, skip={"user_id"})
            for d in await _rows(session, SlideDeck, user_id, SlideDeck.created_at)
        ],
        "images": [
            row_dict(i, skip={"user_id"})
            for i in await _rows(session, GalleryImage, user_id, GalleryImage.created_at)
        ],
        "videos": [
            row_dict(v, skip={"user_id"}) for v in await _rows(session, Video, user_id, Video.created_at)
        ],
        "payments": [
            row_dict(p, skip={"user_id"}) for p in await _rows(session, Payment, user_id, Payment.created_at)
        ],
        "subscription": [
            row_dict(s, skip={"user_id"})
            for s in await _rows(session, Subscription, user_id, Subscription.created_at)
        ],
        "quota_grants": [
            row_dict(g, skip={"user_id"}) for g in await _rows(session, LedgerGrant, user_id, LedgerGrant.id)
        ],
        "usage": [
            row_dict(e, skip={"user_id"}) for e in await _rows(session, LedgerEntry, user_id, LedgerEntry.id)
        ],
    }


@dataclass(frozen=True)
class ArchiveObject:
    bucket: str
    key: str
    path: str  # inside the archive


async def archive_objects(session: AsyncSession, user_id: str) -> list[ArchiveObject]:
    """The stored files the archive carries: ready uploads, then every job's outputs (a file
    scan's output is the upload itself, so it is carried once)."""
    found: dict[tuple[str, str], ArchiveObject] = {}
    for stored in await _rows(session, StoredFile, user_id, StoredFile.created_at):
        if stored.status == FileStatus.ready.value:
            found.setdefault(
                (stored.bucket, stored.key), ArchiveObject(stored.bucket, stored.key, file_path(stored))
            )
    for job in await _rows(session, Job, user_id, Job.created_at):
        if job.kind == JobKind.export.value:
            continue
        for output in job.outputs or []:
            bucket = output.get("bucket", "assets")
            found.setdefault(
                (bucket, output["key"]), ArchiveObject(bucket, output["key"], output_path(job, output))
            )
    return list(found.values())


async def owned_export(session: AsyncSession, user_id: str, job_id: str) -> Job:
    job = await session.get(Job, job_id)
    if job is None or job.user_id != user_id or job.kind != JobKind.export.value:
        raise ExportNotFound()
    return job


async def lock_user(session: AsyncSession, user_id: str) -> None:
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())


async def running_export(session: AsyncSession, user_id: str) -> Job | None:
    """An export still being built (asking again returns it instead of starting another)."""
    query = select(Job).where(
        Job.user_id == user_id,
        Job.kind == JobKind.export.value,
        Job.status.in_((JobStatus.pending.value, JobStatus.running.value)),
    )
    return (await session.execute(query.limit(1))).scalar_one_or_none()


def downloadable(job: Job, now: datetime | None = None) -> dict[str, Any]:
    """The archive of a finished export while it is kept (ExportNotReady / ExportExpired)."""
    if job.status in (JobStatus.pending.value, JobStatus.running.value):
        raise ExportNotReady()
    if job.status != JobStatus.succeeded.value:
        raise ExportNotFound()
    if not job.outputs or job.updated_at + EXPORT_KEEP < (now or utcnow()):
        raise ExportExpired()
    output: dict[str, Any] = job.outputs[0]
    return output
