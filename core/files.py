"""Uploaded files: create (checked against the purpose's types and size cap and the plan's
storage bound), complete, read, delete, and what the scan and the sweeper record.

A file is its owner's alone: every lookup is scoped to the user, and another user's id reads as
missing. Its object lives in ``quarantine`` until the scan promotes it to ``assets``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import AppError, Conflict, NotFound, Unavailable
from core.i18n import translate
from core.models import FilePurpose, FileStatus, JobFile, StoredFile, User
from core.models.base import new_id, utcnow
from core.plans import FREE
from core.settings import Settings
from core.subscriptions import get_subscription

FILE_KIND = "file"  # the <kind> part of an upload's key: u/<user>/file/<file id>/<name>
SCAN_WORKFLOW_PREFIX = "file-"
MAX_NAME = 255
# Why a file was refused, as its owner reads it (English msgids; storage.po has the Arabic).
REJECT_REASONS = {
    "infected": "This file contains malware ({detail}) and was deleted.",
    "type_mismatch": "The file's contents do not match its type, so it was refused.",
    "size_mismatch": "The uploaded file is not the size that was declared.",
    "upload_missing": "The upload did not arrive. Please upload the file again.",
    "too_large_to_scan": "This file is too large to be scanned for viruses, so it was refused.",
    "scan_failed": "The virus scan could not be completed. Please upload the file again.",
    "scanner_unavailable": "The virus scanner is not available right now. Please try again later.",
    "expired": "The upload was never completed and has expired.",
    "cancelled": "The upload was cancelled.",
}


class FileNotFound(NotFound):
    code = "file_not_found"
    message = "This file was not found."


class FileNotReady(Conflict):
    code = "file_not_ready"
    message = "This file is not ready yet (it is still being checked or was refused)."


class FileTypeNotAllowed(AppError):
    status_code = 415
    code = "file_type_not_allowed"
    message = "Files of this type can't be uploaded here."


class FileTooLarge(AppError):
    status_code = 413
    code = "file_too_large"
    message = "This file is too large. The limit is {limit_mb} MB."


class EmptyFile(AppError):
    status_code = 422
    code = "file_empty"
    message = "This file is empty."


class StorageFull(AppError):
    status_code = 413
    code = "storage_quota_exceeded"
    message = "Your storage is full ({limit_mb} MB on your plan). Delete some files or upgrade."


class ScannerUnavailable(Unavailable):
    code = "scanner_unavailable"
    message = "Uploads are paused: the virus scanner is not available right now. Please try again later."


class FileInUse(Conflict):
    code = "file_scanning"
    message = "This file is still being checked. Try again in a moment."


class UploadMissing(Conflict):
    code = "upload_missing"
    message = "The upload did not arrive. Please upload the file again."


class UploadSizeMismatch(AppError):
    status_code = 422
    code = "upload_size_mismatch"
    message = "The uploaded file is not the size that was declared."


class UploadLargerThanDeclared(UploadSizeMismatch):
    status_code = 413
    code = "upload_too_large"
    message = "The uploaded file is larger than the size that was declared, so it was refused and deleted."


def refuse_uploaded(row: StoredFile, received: int) -> UploadSizeMismatch:
    """The object in quarantine is not the declared size (S3 is meant to refuse that, but
    anything S3-compatible may not): the file is rejected now; the caller deletes the object."""
    row.status = FileStatus.rejected.value
    row.reason_code = "size_mismatch"
    row.detail = f"{received} bytes"
    return UploadLargerThanDeclared() if received > row.size else UploadSizeMismatch()


def reason_message(code: str | None, detail: str | None, locale: str | None) -> str | None:
    if not code:
        return None
    english = REJECT_REASONS.get(code, REJECT_REASONS["scan_failed"])
    return translate(english, locale, detail=detail or "")


def scan_workflow_id(file_id: str) -> str:
    return f"{SCAN_WORKFLOW_PREFIX}{file_id}"


def _megabytes(size: int) -> int:
    return max(1, size // (1024 * 1024))


async def storage_used(session: AsyncSession, user_id: str) -> int:
    """Bytes the person's files take (pending uploads count: they were promised the space)."""
    query = select(func.coalesce(func.sum(StoredFile.size), 0)).where(
        StoredFile.user_id == user_id, StoredFile.status != FileStatus.rejected.value
    )
    return int((await session.execute(query)).scalar_one())


async def plan_of(session: AsyncSession, user_id: str) -> str:
    subscription = await get_subscription(session, user_id)
    return subscription.plan_id if subscription else FREE


def _plan_megabytes(limits: dict[str, int], plan: str, default: int) -> int:
    return limits.get(plan, limits.get(FREE, default)) * 1024 * 1024


async def storage_limit(session: AsyncSession, settings: Settings, user_id: str) -> int:
    return _plan_megabytes(settings.storage_plan_limits_mb, await plan_of(session, user_id), 100)


def check_upload(settings: Settings, purpose: str, content_type: str, size: int) -> None:
    """The purpose's allowed types and size cap, before anything is uploaded."""
    allowed = settings.files_allowed_types.get(purpose, [])
    if content_type.split(";")[0].strip().lower() not in allowed:
        raise FileTypeNotAllowed()
    if size <= 0:
        raise EmptyFile()
    cap = min(settings.files_max_bytes.get(purpose, 0), settings.clamd_max_bytes)
    if size > cap:
        raise FileTooLarge(limit_mb=_megabytes(cap))


async def create_file(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: str,
    name: str,
    content_type: str,
    size: int,
    purpose: FilePurpose,
    key_for: Callable[[str], str],
) -> StoredFile:
    """A ``pending`` file row; ``key_for(file_id) -> key`` names its object in quarantine.
    The user's row is locked while the storage bound is checked (concurrent uploads queue)."""
    content_type = content_type.split(";")[0].strip().lower()
    check_upload(settings, purpose.value, content_type, size)
    await session.execute(select(User.id).where(User.id == user_id).with_for_update())
    plan = await plan_of(session, user_id)
    file_cap = _plan_megabytes(settings.files_plan_max_mb, plan, 20)
    if size > file_cap:  # the plan's cap on one file (the purpose's is checked above)
        raise FileTooLarge(limit_mb=_megabytes(file_cap))
    bound = _plan_megabytes(settings.storage_plan_limits_mb, plan, 100)
    if await storage_used(session, user_id) + size > bound:
        raise StorageFull(limit_mb=_megabytes(bound))
    file_id = new_id()
    row = StoredFile(
        id=file_id,
        user_id=user_id,
        purpose=purpose.value,
        name=name.strip()[:MAX_NAME] or "file",
        content_type=content_type,
        size=size,
        status=FileStatus.pending.value,
        bucket="quarantine",
        key=key_for(file_id),
    )
    session.add(row)
    await session.flush()
    return row


async def owned_file(session: AsyncSession, user_id: str, file_id: str, *, lock: bool = False) -> StoredFile:
    query = select(StoredFile).where(StoredFile.id == file_id, StoredFile.user_id == user_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if row is None:
        raise FileNotFound()
    return row


async def ready_file(session: AsyncSession, user_id: str, file_id: str) -> StoredFile:
    """A file a job may take as input: the person's own, scanned clean."""
    row = await owned_file(session, user_id, file_id)
    if row.status != FileStatus.ready.value:
        raise FileNotReady()
    return row


async def ready_files(session: AsyncSession, user_id: str, file_ids: Sequence[str]) -> list[StoredFile]:
    return [await ready_file(session, user_id, file_id) for file_id in dict.fromkeys(file_ids)]


async def attach_to_job(session: AsyncSession, job_id: str, files: Sequence[StoredFile]) -> None:
    for position, row in enumerate(files):
        session.add(JobFile(job_id=job_id, file_id=row.id, position=position))
    await session.flush()


async def job_files(session: AsyncSession, job_id: str) -> list[StoredFile]:
    query = (
        select(StoredFile)
        .join(JobFile, JobFile.file_id == StoredFile.id)
        .where(JobFile.job_id == job_id)
        .order_by(JobFile.position)
    )
    return list((await session.execute(query)).scalars())


async def files_of_jobs(session: AsyncSession, job_ids: Sequence[str]) -> dict[str, list[StoredFile]]:
    """Each job's files in their order (one query; jobs without files are absent)."""
    if not job_ids:
        return {}
    query = (
        select(JobFile.job_id, StoredFile)
        .join(StoredFile, JobFile.file_id == StoredFile.id)
        .where(JobFile.job_id.in_(list(dict.fromkeys(job_ids))))
        .order_by(JobFile.job_id, JobFile.position)
    )
    attached: dict[str, list[StoredFile]] = {}
    for job_id, row in (await session.execute(query)).all():
        attached.setdefault(job_id, []).append(row)
    return attached


async def start_scan(session: AsyncSession, row: StoredFile) -> bool:
    """pending → scanning; False when the scan already started (a repeated complete)."""
    if row.status != FileStatus.pending.value:
        return False
    row.status = FileStatus.scanning.value
    await session.flush()
    return True


async def list_files(
    session: AsyncSession, user_id: str, *, purpose: str | None = None, limit: int = 100
) -> list[StoredFile]:
    query = select(StoredFile).where(StoredFile.user_id == user_id)
    if purpose:
        query = query.where(StoredFile.purpose == purpose)
    query = query.order_by(StoredFile.created_at.desc(), StoredFile.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


# --- what the scan workflow's activities record (each in its own transaction) ---


@dataclass(frozen=True)
class ScanTarget:
    file_id: str
    user_id: str
    name: str
    content_type: str
    size: int
    status: str
    bucket: str
    key: str


async def scan_target(session: AsyncSession, file_id: str) -> ScanTarget | None:
    row = await session.get(StoredFile, file_id)
    if row is None:
        return None
    return ScanTarget(
        row.id, row.user_id, row.name, row.content_type, row.size, row.status, row.bucket, row.key
    )


async def mark_ready(session: AsyncSession, file_id: str, sha256: str) -> bool:
    """scanning → ready in assets; False when the file already has its outcome (or is gone)."""
    row = await session.get(StoredFile, file_id, with_for_update=True)
    if row is None or row.status not in (FileStatus.scanning.value, FileStatus.pending.value):
        return False
    row.status = FileStatus.ready.value
    row.bucket = "assets"
    row.sha256 = sha256
    row.ready_at = utcnow()
    await session.flush()
    return True


async def mark_rejected(session: AsyncSession, file_id: str, code: str, detail: str | None) -> bool:
    row = await session.get(StoredFile, file_id, with_for_update=True)
    if row is None or row.status in (FileStatus.ready.value, FileStatus.rejected.value):
        return False
    row.status = FileStatus.rejected.value
    row.reason_code = code
    row.detail = (detail or "")[:255] or None
    await session.flush()
    return True


async def orphaned_uploads(session: AsyncSession, older_than: datetime, limit: int) -> list[StoredFile]:
    """Uploads never completed (pending past the grace period)."""
    query = (
        select(StoredFile)
        .where(StoredFile.status == FileStatus.pending.value, StoredFile.updated_at < older_than)
        .order_by(StoredFile.updated_at)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def rejected_in_quarantine(session: AsyncSession, older_than: datetime, limit: int) -> list[StoredFile]:
    """Rejected files whose quarantine object may have outlived the rejection (re-deleted)."""
    query = (
        select(StoredFile)
        .where(
            StoredFile.status == FileStatus.rejected.value,
            StoredFile.bucket == "quarantine",
            StoredFile.updated_at < older_than,
            StoredFile.updated_at > older_than - timedelta(days=1),
        )
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def copy_job_files(session: AsyncSession, from_job: str, to_job: str) -> None:
    """A regenerated turn keeps the files its question came with."""
    for position, row in enumerate(await job_files(session, from_job)):
        session.add(JobFile(job_id=to_job, file_id=row.id, position=position))
    await session.flush()
