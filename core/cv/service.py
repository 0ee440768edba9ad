"""CVs owned by their users, one row per save in ``cv_versions``. Another user's CV is "not found"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import files
from core.cv.errors import CvInvalid, CvNotFound, CvPhotoInvalid, CvPhotoMissing, CvVersionConflict
from core.cv.schema import CvContent
from core.models import Cv, CvVersion, FilePurpose, FileStatus


@dataclass(frozen=True)
class CvRecord:
    id: str
    title: str
    locale: str
    version: int
    content: CvContent
    created_at: datetime
    updated_at: datetime


def parse_content(data: object) -> CvContent:
    try:
        return CvContent.model_validate(data)
    except ValidationError as error:
        raise CvInvalid() from error


def _title(content: CvContent) -> str:
    return content.title or content.basics.name or ""


async def _owned(session: AsyncSession, user_id: str, cv_id: str, *, lock: bool = False) -> Cv:
    query = select(Cv).where(Cv.id == cv_id, Cv.user_id == user_id)
    if lock:
        query = query.with_for_update()
    cv = (await session.execute(query)).scalar_one_or_none()
    if cv is None:
        raise CvNotFound()
    return cv


async def _content(session: AsyncSession, cv_id: str, version: int) -> CvContent:
    query = select(CvVersion.content).where(CvVersion.cv_id == cv_id, CvVersion.version == version)
    data = (await session.execute(query)).scalar_one_or_none()
    if data is None:
        raise CvNotFound()
    return CvContent.model_validate(data)


def _record(cv: Cv, content: CvContent) -> CvRecord:
    return CvRecord(cv.id, cv.title, cv.locale, cv.version, content, cv.created_at, cv.updated_at)


async def _check_photo(session: AsyncSession, user_id: str, content: CvContent) -> None:
    """A CV's photo is one of its owner's ``cv_photo`` uploads, not refused by the scan (it may
    still be scanning: rendering waits for ``ready``). Another user's file reads as missing."""
    if not content.photo_file_id:
        return
    try:
        row = await files.owned_file(session, user_id, content.photo_file_id)
    except files.FileNotFound:
        raise CvPhotoInvalid() from None
    if row.purpose != FilePurpose.cv_photo.value or row.status == FileStatus.rejected.value:
        raise CvPhotoInvalid()


async def photo_key(session: AsyncSession, user_id: str, content: CvContent) -> str | None:
    """The storage key (in ``assets``) of the CV's photo, for a render that shows it."""
    if not content.photo_file_id:
        return None
    try:
        row = await files.ready_file(session, user_id, content.photo_file_id)
    except (files.FileNotFound, files.FileNotReady):
        raise CvPhotoMissing() from None
    if row.purpose != FilePurpose.cv_photo.value:
        raise CvPhotoInvalid()
    return row.key


async def create_cv(session: AsyncSession, user_id: str, content: CvContent) -> CvRecord:
    await _check_photo(session, user_id, content)
    cv = Cv(user_id=user_id, title=_title(content), locale=content.locale, version=1)
    session.add(cv)
    await session.flush()
    session.add(CvVersion(cv_id=cv.id, version=1, content=content.model_dump(mode="json")))
    await session.flush()
    return _record(cv, content)


async def list_cvs(session: AsyncSession, user_id: str) -> list[Cv]:
    query = select(Cv).where(Cv.user_id == user_id).order_by(Cv.updated_at.desc()).limit(200)
    return list((await session.execute(query)).scalars())


async def get_cv(session: AsyncSession, user_id: str, cv_id: str, version: int | None = None) -> CvRecord:
    cv = await _owned(session, user_id, cv_id)
    return _record(cv, await _content(session, cv.id, version or cv.version))


async def update_cv(
    session: AsyncSession, user_id: str, cv_id: str, content: CvContent, *, expected_version: int | None
) -> CvRecord:
    """Save a new version; with ``expected_version`` a concurrent save answers 409, never lost."""
    cv = await _owned(session, user_id, cv_id, lock=True)
    await _check_photo(session, user_id, content)
    if expected_version is not None and expected_version != cv.version:
        raise CvVersionConflict()
    cv.version += 1
    cv.title = _title(content)
    cv.locale = content.locale
    session.add(CvVersion(cv_id=cv.id, version=cv.version, content=content.model_dump(mode="json")))
    await session.flush()
    return _record(cv, content)


async def list_versions(session: AsyncSession, user_id: str, cv_id: str) -> list[tuple[int, datetime]]:
    await _owned(session, user_id, cv_id)
    query = (
        select(CvVersion.version, CvVersion.created_at)
        .where(CvVersion.cv_id == cv_id)
        .order_by(CvVersion.version.desc())
        .limit(100)
    )
    return [(row.version, row.created_at) for row in await session.execute(query)]


async def delete_cv(session: AsyncSession, user_id: str, cv_id: str) -> None:
    cv = await _owned(session, user_id, cv_id)
    await session.execute(delete(CvVersion).where(CvVersion.cv_id == cv.id))
    await session.delete(cv)
    await session.flush()
