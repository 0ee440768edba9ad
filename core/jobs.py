"""Jobs: one row per AI job, keyed by its workflow id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Job, JobStatus


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


async def unfinished_jobs(
    session: AsyncSession, *, kinds: list[str], older_than: datetime, limit: int = 200
) -> list[Job]:
    """Jobs of ``kinds`` still pending/running and untouched since ``older_than`` (oldest first):
    the candidates for the sweeper that repairs rows whose workflow never started or is gone."""
    query = (
        select(Job)
        .where(Job.kind.in_(kinds), Job.status.in_(UNFINISHED), Job.updated_at < older_than)
        .order_by(Job.updated_at)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
