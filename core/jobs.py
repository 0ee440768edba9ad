"""Jobs: one row per AI job, keyed by its workflow id."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.i18n import translate
from core.models import Job, JobKind, JobStatus


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


async def mark_running(session: AsyncSession, job: Job) -> None:
    if job.status == JobStatus.pending.value:
        job.status = JobStatus.running.value
        await session.flush()


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
