from __future__ import annotations

from temporalio.client import Client

import worker as worker_module
from core.jobs import JobRepository
from core.settings import Settings
from workflows import BACKGROUND
from workflows.doctor import run_diagnostics


async def test_doctor_round_trip_through_postgres(
    client: Client, settings: Settings, worker: worker_module.WorkerDeps
) -> None:
    report = await run_diagnostics(client, settings.task_queue(BACKGROUND))
    assert report.result.database == "postgresql"
    names = [name for name, _ms in report.hops]
    assert names[0].startswith("start") and names[-1].endswith("workflow completed")
    assert all(ms >= 0 for _name, ms in report.hops)
    async with worker.db.session() as session:
        job = await JobRepository(session).get(report.result.job_id)
    assert job is not None and job.status == "succeeded" and job.kind == "diagnostics"
    assert any("database (postgresql)" in line for line in report.lines())
