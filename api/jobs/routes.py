"""The one API for every document/media job: list, read (signed output links), events, cancel.
Each kind adds its own create route; the file scan (api/files) is the first."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from temporalio.service import RPCError

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, SessionDep, StateDep, StorageDep, TemporalDep
from api.jobs import schemas
from api.jobs.sse import relay
from core import jobs
from core.models import Job, JobStatus
from core.settings import Settings
from providers.storage import Storage

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def absolute(request: Request, url: str) -> str:
    """Local-backend links are paths on this API; S3's are already absolute."""
    return str(request.base_url).rstrip("/") + url if url.startswith("/") else url


async def job_out(
    request: Request, job: Job, locale: str, storage: Storage, settings: Settings
) -> schemas.JobOut:
    outputs = []
    for output in jobs.job_outputs(job):
        url = await storage.signed_get_url(
            output.bucket,  # type: ignore[arg-type]
            output.key,
            filename=output.name,
            content_type=output.content_type,
            expires_in=settings.storage_download_ttl_seconds,
        )
        outputs.append(
            schemas.JobOutputOut(
                name=output.name,
                content_type=output.content_type,
                size=output.size,
                url=absolute(request, url),
            )
        )
    error = None
    if job.status in (JobStatus.failed.value, JobStatus.cancelled.value):
        error = schemas.JobErrorOut(
            code=job.error_code or "provider_error", message=jobs.job_error_message(job, locale)
        )
    return schemas.JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        error=error,
        usage=jobs.job_usage(job),
        outputs=outputs,
        created_at=job.created_at,
        updated_at=job.updated_at,
        events_url=f"/v1/jobs/{job.id}/events",
    )


@router.get("", response_model=list[schemas.JobOut])
async def list_jobs(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    storage: StorageDep,
    locale: LocaleDep,
    kind: str | None = Query(None, max_length=16),
    status: JobStatus | None = Query(None),
    limit: int = Query(50, ge=1, le=200),
) -> list[schemas.JobOut]:
    """The person's jobs, newest first (chat turns only with ``kind=chat``)."""
    rows = await jobs.list_jobs(
        session, user.id, kind=kind, status=status.value if status else None, limit=limit
    )
    return [await job_out(request, job, locale, storage, state.settings) for job in rows]


@router.get("/{job_id}", response_model=schemas.JobOut)
async def get_job(
    job_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    storage: StorageDep,
    locale: LocaleDep,
) -> schemas.JobOut:
    job = await jobs.owned_job(session, user.id, job_id)
    return await job_out(request, job, locale, storage, state.settings)


@router.get("/{job_id}/events")
async def job_events(
    job_id: str,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    locale: LocaleDep,
    last_event_id: str | None = Header(default=None),
    after: str | None = Query(default=None, description="resume after this event id"),
) -> StreamingResponse:
    await jobs.owned_job(session, user.id, job_id)
    stream = relay(state.bus, state.db, job_id, last_event_id or after, locale)
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/{job_id}/cancel", status_code=202, response_model=schemas.JobCancelOut)
async def cancel_job(
    job_id: str, user: CurrentUser, session: SessionDep, state: StateDep, client: TemporalDep
) -> schemas.JobCancelOut:
    """Cancel the job's workflow: its saga releases what was reserved and records ``cancelled``
    (a job that already finished keeps its outcome)."""
    job = await jobs.owned_job(session, user.id, job_id)
    if job.status in jobs.TERMINAL_STATUSES:
        return schemas.JobCancelOut(id=job.id, status=job.status)
    await state.bus.request_stop(job_id)
    try:
        await client.get_workflow_handle(job.workflow_id).cancel()
    except RPCError:
        pass  # already finished
    return schemas.JobCancelOut(id=job.id, status="cancelling")
