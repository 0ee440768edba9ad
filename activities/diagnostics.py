"""Diagnostics: write a row through the database layer and read it back, timing both."""

from __future__ import annotations

import time
from dataclasses import dataclass

from temporalio import activity

from core.db import Database
from core.jobs import JobRepository
from core.models import JobKind, JobStatus


@dataclass
class DiagnosticsInput:
    probe_id: str
    workflow_id: str


@dataclass
class DiagnosticsResult:
    job_id: str
    database: str
    write_ms: float
    read_ms: float
    activity_started_at: float  # time.time() when the activity began


class DiagnosticsActivities:
    def __init__(self, db: Database) -> None:
        self.db = db

    @activity.defn(name="diagnostics.write_and_read")
    async def write_and_read(self, data: DiagnosticsInput) -> DiagnosticsResult:
        started = time.time()
        begin = time.perf_counter()
        async with self.db.session() as session:
            repo = JobRepository(session)
            job = await repo.by_workflow_id(data.workflow_id)
            if job is None:  # a retried attempt finds the row it already wrote
                job = await repo.create(
                    kind=JobKind.diagnostics, workflow_id=data.workflow_id, job_id=data.probe_id
                )
            await repo.set_status(job, JobStatus.succeeded)
        wrote = time.perf_counter()
        async with self.db.session() as session:
            found = await JobRepository(session).get(data.probe_id)
        read = time.perf_counter()
        if found is None or found.status != JobStatus.succeeded:
            raise RuntimeError("diagnostics row was not read back")
        return DiagnosticsResult(
            job_id=found.id,
            database=self.db.engine.dialect.name,
            write_ms=(wrote - begin) * 1000,
            read_ms=(read - wrote) * 1000,
            activity_started_at=started,
        )
