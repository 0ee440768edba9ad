"""Uploads: create (a presigned form into quarantine), complete (starts FileScanWorkflow),
list, read, download (302 to a signed link), delete. Another user's file answers 404."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, ScannerDep, SessionDep, StateDep, StorageDep, TemporalDep
from api.files import schemas
from api.jobs.routes import absolute
from core import files, jobs
from core.errors import Unavailable
from core.models import FilePurpose, FileStatus, JobStatus, StoredFile
from providers.scanner import ScannerUnavailable
from providers.storage import QUARANTINE, object_key
from workflows.starters import start_file_scan

router = APIRouter(prefix="/v1/files", tags=["files"])


def file_out(row: StoredFile, locale: str) -> schemas.FileOut:
    reason = None
    if row.status == FileStatus.rejected.value and row.reason_code:
        message = files.reason_message(row.reason_code, row.detail, locale) or ""
        reason = schemas.FileReason(code=row.reason_code, message=message)
    started = row.status != FileStatus.pending.value
    return schemas.FileOut(
        id=row.id,
        name=row.name,
        content_type=row.content_type,
        size=row.size,
        purpose=row.purpose,
        status=row.status,
        reason=reason,
        created_at=row.created_at,
        ready_at=row.ready_at,
        content_url=f"/v1/files/{row.id}/content" if row.status == FileStatus.ready.value else None,
        job_id=row.id if started else None,
        events_url=f"/v1/jobs/{row.id}/events" if started else None,
    )


@router.post("", status_code=201, response_model=schemas.FileCreated)
async def create_file(
    body: schemas.FileIn,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    storage: StorageDep,
    scanner: ScannerDep,
    locale: LocaleDep,
) -> schemas.FileCreated:
    """Check type, size and the plan's storage bound, then hand out an upload form for exactly
    ``size`` bytes of ``content_type``. Refused while the virus scanner is down."""
    settings = state.settings
    files.check_upload(
        settings, body.purpose.value, body.content_type.split(";")[0].strip().lower(), body.size
    )
    try:
        await scanner.ping()
    except ScannerUnavailable:
        raise files.ScannerUnavailable() from None
    user_id = user.id
    row = await files.create_file(
        session,
        settings,
        user_id=user_id,
        name=body.name,
        content_type=body.content_type,
        size=body.size,
        purpose=body.purpose,
        key_for=lambda file_id: object_key(user_id, files.FILE_KIND, file_id, body.name),
    )
    form = await storage.presigned_post(
        QUARANTINE,
        row.key,
        content_type=row.content_type,
        size=row.size,
        expires_in=settings.storage_upload_ttl_seconds,
    )
    return schemas.FileCreated(
        file_id=row.id,
        upload=schemas.UploadForm(url=absolute(request, form.url), fields=form.fields),
        file=file_out(row, locale),
    )


@router.get("", response_model=list[schemas.FileOut])
async def list_files(
    user: CurrentUser,
    session: SessionDep,
    locale: LocaleDep,
    purpose: FilePurpose | None = Query(None),
    limit: int = Query(100, ge=1, le=500),
) -> list[schemas.FileOut]:
    rows = await files.list_files(session, user.id, purpose=purpose.value if purpose else None, limit=limit)
    return [file_out(row, locale) for row in rows]


@router.get("/usage", response_model=schemas.StorageUsageOut)
async def storage_usage(user: CurrentUser, session: SessionDep, state: StateDep) -> schemas.StorageUsageOut:
    return schemas.StorageUsageOut(
        used_bytes=await files.storage_used(session, user.id),
        limit_bytes=await files.storage_limit(session, state.settings, user.id),
    )


@router.post("/{file_id}/complete", status_code=202, response_model=schemas.FileOut)
async def complete_upload(
    file_id: str,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    storage: StorageDep,
    locale: LocaleDep,
) -> schemas.FileOut:
    """The browser finished uploading: check the object is there with the declared size, then
    start the scan (once; a repeated complete is a no-op). The scan checks the size again."""
    row = await files.owned_file(session, user.id, file_id, lock=True)
    if row.status == FileStatus.pending.value:
        uploaded = await storage.head(QUARANTINE, row.key)
        if uploaded is None:
            raise files.UploadMissing()  # still pending: the form may be posted again
        if uploaded.size != row.size:
            refused = files.refuse_uploaded(row, uploaded.size)
            await storage.delete(QUARANTINE, row.key)
            await session.commit()
            raise refused
    if await files.start_scan(session, row):
        workflow_id = files.scan_workflow_id(row.id)
        await jobs.ensure_job(
            session, job_id=row.id, user_id=row.user_id, kind="file_scan", workflow_id=workflow_id
        )
        await session.commit()
        try:
            await start_file_scan(client, state.settings, row.id, row.user_id, locale, row.content_type)
        except Exception:  # Temporal unreachable: the file waits for a repeated complete
            row.status = FileStatus.pending.value
            await session.commit()
            raise Unavailable() from None
    return file_out(row, locale)


@router.get("/{file_id}", response_model=schemas.FileOut)
async def get_file(
    file_id: str, user: CurrentUser, session: SessionDep, locale: LocaleDep
) -> schemas.FileOut:
    return file_out(await files.owned_file(session, user.id, file_id), locale)


@router.get("/{file_id}/content")
async def file_content(
    file_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    storage: StorageDep,
    inline: bool = Query(False),
) -> Response:
    """302 to a fresh short-lived link (owner-checked now; the link names the file)."""
    row = await files.owned_file(session, user.id, file_id)
    if row.status != FileStatus.ready.value:
        raise files.FileNotReady()
    url = await storage.signed_get_url(
        "assets",
        row.key,
        filename=row.name,
        content_type=row.content_type,
        expires_in=state.settings.storage_download_ttl_seconds,
        inline=inline,
    )
    return RedirectResponse(absolute(request, url), status_code=302, headers={"Cache-Control": "no-store"})


@router.delete("/{file_id}", status_code=204)
async def delete_file(file_id: str, user: CurrentUser, session: SessionDep, storage: StorageDep) -> Response:
    """Delete the object and the row (a file being scanned: 409 until its scan ends)."""
    row = await files.owned_file(session, user.id, file_id, lock=True)
    if row.status == FileStatus.scanning.value:
        raise files.FileInUse()
    await storage.delete(row.bucket, row.key)  # type: ignore[arg-type]
    job = await jobs.JobRepository(session).get(row.id)
    if job is not None and job.status not in jobs.TERMINAL_STATUSES:
        await jobs.finish_job(session, job, JobStatus.cancelled, error_code="cancelled")
    await session.delete(row)
    return Response(status_code=204)
