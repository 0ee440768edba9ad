"""CV API: create, list, read, save (a new version each time), delete, JSON Resume import/export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Header, Query, Response

from api.auth.deps import CurrentUser
from api.cv import schemas
from api.deps import SessionDep
from core.cv import service
from core.cv.errors import CvInvalid
from core.cv.schema import CvContent, export_json_resume, import_json_resume

router = APIRouter(prefix="/v1/cv", tags=["cv"])


@router.post("", status_code=201, response_model=schemas.CvOut)
async def create_cv(body: CvContent, user: CurrentUser, session: SessionDep) -> schemas.CvOut:
    return schemas.CvOut.of(await service.create_cv(session, user.id, body))


@router.post("/import", status_code=201, response_model=schemas.CvOut)
async def import_cv(
    user: CurrentUser,
    session: SessionDep,
    document: dict[str, Any] = Body(...),
    locale: str = Query(default="ar", pattern="^(ar|en)$"),
) -> schemas.CvOut:
    """A JSON Resume document (https://jsonresume.org/schema) becomes a new CV."""
    try:
        content = import_json_resume(document, locale=locale)
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise CvInvalid() from error
    return schemas.CvOut.of(await service.create_cv(session, user.id, content))


@router.get("", response_model=list[schemas.CvSummaryOut])
async def list_cvs(user: CurrentUser, session: SessionDep) -> list[schemas.CvSummaryOut]:
    return [
        schemas.CvSummaryOut(
            id=cv.id, title=cv.title, locale=cv.locale, version=cv.version, updated_at=cv.updated_at
        )
        for cv in await service.list_cvs(session, user.id)
    ]


@router.get("/{cv_id}", response_model=schemas.CvOut)
async def get_cv(
    cv_id: str, user: CurrentUser, session: SessionDep, version: int | None = Query(default=None, ge=1)
) -> schemas.CvOut:
    return schemas.CvOut.of(await service.get_cv(session, user.id, cv_id, version))


@router.get("/{cv_id}/versions", response_model=list[schemas.VersionOut])
async def list_versions(cv_id: str, user: CurrentUser, session: SessionDep) -> list[schemas.VersionOut]:
    rows = await service.list_versions(session, user.id, cv_id)
    return [schemas.VersionOut(version=version, created_at=at) for version, at in rows]


@router.get("/{cv_id}/export")
async def export_cv(cv_id: str, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """The CV as a JSON Resume document (the studio's layout in ``meta.pulse``)."""
    return export_json_resume((await service.get_cv(session, user.id, cv_id)).content)


@router.put("/{cv_id}", response_model=schemas.CvOut)
async def update_cv(
    cv_id: str,
    body: CvContent,
    user: CurrentUser,
    session: SessionDep,
    if_match: str | None = Header(default=None, description="the version this edit started from"),
) -> schemas.CvOut:
    expected = _version(if_match)
    return schemas.CvOut.of(await service.update_cv(session, user.id, cv_id, body, expected_version=expected))


@router.delete("/{cv_id}", status_code=204)
async def delete_cv(cv_id: str, user: CurrentUser, session: SessionDep) -> Response:
    await service.delete_cv(session, user.id, cv_id)
    return Response(status_code=204)


def _version(if_match: str | None) -> int | None:
    if not if_match:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise CvInvalid()
    return int(value)
