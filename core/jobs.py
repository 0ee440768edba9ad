"""Jobs: one row per AI job, keyed by its workflow id."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.i18n import translate
from core.models import Job, JobKind, JobStatus
from core.models.base import utcnow


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self, *, kind: str, workflow_id: str, user_id: str | None = None, job_id: str | None = None
    ) -> Job:
        job = Job(kind=kind, workflow_id=workflow_id, user_id=user_id)
        if job_id:
            job.id = job_id
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, job_id: str, *, user_id: str | None = None) -> Job | None:
        query = select(Job).where(Job.id == job_id)
        if user_id is not None:
            query = query.where(Job.user_id == user_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def by_workflow_id(self, workflow_id: str) -> Job | None:
        query = select(Job).where(Job.workflow_id == workflow_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def set_status(
        self, job: Job, status: JobStatus, *, error_code: str | None = None, error_message: str | None = None
    ) -> None:
        job.status = status.value
        job.error_code = error_code
        job.error_message = error_message
        await self.session.flush()


UNFINISHED = (JobStatus.pending.value, JobStatus.running.value)
Cursor = tuple[datetime, str]  # (updated_at, id) of the last row a sweep looked at


async def unfinished_jobs(
    session: AsyncSession,
    *,
    older_than: datetime,
    kinds: list[str] | None = None,
    after: Cursor | None = None,
    limit: int = 200,
) -> list[Job]:
    """Jobs (of ``kinds``, or of every kind) still pending/running and untouched since
    ``older_than``, oldest first, after ``after``: the candidates for the sweeper that repairs
    rows whose workflow never started or is gone. Paging with ``after`` lets a sweep go on
    where the last one stopped, so long-lived live jobs never hide newer orphans."""
    query = select(Job).where(Job.status.in_(UNFINISHED), Job.updated_at < older_than)
    if kinds is not None:
        query = query.where(Job.kind.in_(kinds))
    if after is not None:
        seen_at, seen_id = after
        query = query.where(or_(Job.updated_at > seen_at, and_(Job.updated_at == seen_at, Job.id > seen_id)))
    query = query.order_by(Job.updated_at, Job.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def claim_for_repair(session: AsyncSession, job: Job) -> Job | None:
    """Take an unfinished row for repair: the row as claimed for exactly one of several sweepers
    that saw it at ``job.updated_at`` (the conditional UPDATE moves ``updated_at``, so a second
    sweeper's claim matches nothing, and a row its workflow touched meanwhile is left alone),
    else None. A repair that dies after its claim is retried once the grace period has passed
    again; a repair that fails the row passes the claimed ``updated_at`` to ``fail_unfinished``,
    so a workflow that started between the claim and the failure keeps its row."""
    claimed = await session.execute(
        update(Job)
        .where(Job.id == job.id, Job.status.in_(UNFINISHED), Job.updated_at == job.updated_at)
        .values(updated_at=utcnow())
        .returning(Job)
    )
    return claimed.scalar_one_or_none()


async def fail_unfinished(
    session: AsyncSession,
    job_id: str,
    code: str,
    message: str,
    *,
    unchanged_since: datetime | None = None,
    statuses: tuple[str, ...] = UNFINISHED,
) -> bool:
    """pending/running (or only ``statuses``) → failed with ``code``, in one conditional UPDATE
    (False when the job already has its outcome, or was touched after ``unchanged_since``), so
    concurrent writers record one outcome."""
    query = update(Job).where(Job.id == job_id, Job.status.in_(statuses))
    if unchanged_since is not None:
        query = query.where(Job.updated_at == unchanged_since)
    values = {"status": JobStatus.failed.value, "error_code": code, "error_message": message}
    failed = await session.execute(query.values(**values, updated_at=utcnow()).returning(Job.id))
    return failed.scalar_one_or_none() is not None


async def fail_unstarted(session: AsyncSession, job_id: str, code: str = "unavailable") -> bool:
    """The API's answer to a workflow start that failed: the row failed only if still
    ``pending``. One the job sweeper already failed keeps its outcome; one whose workflow
    already runs (the start reached Temporal although the call failed) is its workflow's."""
    return await fail_unfinished(
        session, job_id, code, english_error(code), statuses=(JobStatus.pending.value,)
    )


async def start_job(
    session: AsyncSession, *, job_id: str, user_id: str | None, kind: str, workflow_id: str
) -> Job:
    """The row a workflow is starting work for, moved pending → running in one conditional
    UPDATE (created first if missing), as it is now. A row that already has its outcome (the
    sweeper failed it while the API's start was delayed, or the API failed it on a start that
    seemed to fail) keeps it: the workflow must not work for it. Against the sweeper's
    conditional failure, one of the two wins."""
    job = await ensure_job(session, job_id=job_id, user_id=user_id, kind=kind, workflow_id=workflow_id)
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.pending.value)
        .values(status=JobStatus.running.value, updated_at=utcnow())
    )
    await session.refresh(job)
    return job


# --- documents and media jobs: the one shape every non-chat job shares (docs/storage.md) ---

TERMINAL_STATUSES = frozenset({JobStatus.succeeded.value, JobStatus.failed.value, JobStatus.cancelled.value})
# What a failed job's error code says to its owner (English msgids; core/translations/*/storage.po).
# A kind with codes of its own passes its English message to finish_job instead.
JOB_ERROR_MESSAGES = {
    "quota_exceeded": "You have used up your quota for this. Upgrade your plan or buy an add-on.",
    "provider_error": "The service could not finish this job right now. Please try again.",
    "provider_timeout": "The service took too long to finish this job. Nothing was charged.",
    "content_refused": "This request was refused by the provider's safety rules. Nothing was charged.",
    "cancelled": "The job was cancelled.",
    "unavailable": "The service is temporarily unavailable.",
    "service_unavailable": "The service was briefly unavailable, so this job could not be finished. "
    "Nothing was charged. Please try again.",
}


class JobNotFound(NotFound):
    code = "job_not_found"
    message = "This job was not found."


@dataclass(frozen=True)
class JobOutput:
    """One stored output: a storage key (never bytes) and what a download link needs."""

    name: str
    key: str
    content_type: str
    size: int
    bucket: str = "assets"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def english_error(code: str | None, message: str | None = None) -> str:
    """The English msgid a failed job stores (translated when read, in the reader's language)."""
    return message or JOB_ERROR_MESSAGES.get(code or "", JOB_ERROR_MESSAGES["provider_error"])


def job_error_message(job: Job, locale: str | None) -> str:
    return translate(english_error(job.error_code, job.error_message), locale)


async def owned_job(session: AsyncSession, user_id: str, job_id: str) -> Job:
    """The person's job, or JobNotFound (another user's id answers the same as a missing one)."""
    job = await JobRepository(session).get(job_id, user_id=user_id)
    if job is None:
        raise JobNotFound()
    return job


async def list_jobs(
    session: AsyncSession,
    user_id: str,
    *,
    kind: str | None = None,
    status: str | None = None,
    limit: int = 50,
) -> list[Job]:
    """Newest first; chat turns only when asked for (they have their own API)."""
    query = select(Job).where(Job.user_id == user_id)
    query = query.where(Job.kind == kind) if kind else query.where(Job.kind != JobKind.chat.value)
    if status:
        query = query.where(Job.status == status)
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def ensure_job(
    session: AsyncSession, *, job_id: str, user_id: str | None, kind: str, workflow_id: str
) -> Job:
    """The job's row, created if missing (the API creates it before starting the workflow; the
    workflow's first step calls this too, so a row never goes missing for a running job)."""
    repo = JobRepository(session)
    job = await repo.get(job_id)
    if job is None:
        job = await repo.create(kind=kind, workflow_id=workflow_id, user_id=user_id, job_id=job_id)
    return job


async def finish_job(
    session: AsyncSession,
    job: Job,
    status: JobStatus,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
    outputs: list[JobOutput] | None = None,
    usage: dict[str, int] | None = None,
) -> bool:
    """Record the one outcome; a job already finished keeps its outcome (returns False)."""
    if job.status in TERMINAL_STATUSES:
        return False
    job.status = status.value
    job.error_code = error_code
    job.error_message = error_message
    if outputs is not None:
        job.outputs = [output.as_dict() for output in outputs]
    for unit, amount in (usage or {}).items():
        setattr(job, f"cost_{unit}", amount)
    await session.flush()
    return True


def job_outputs(job: Job) -> list[JobOutput]:
    return [JobOutput(**item) for item in job.outputs or []]


def job_usage(job: Job) -> dict[str, int]:
    return {"tokens": job.cost_tokens, "images": job.cost_images, "videos": job.cost_videos}
