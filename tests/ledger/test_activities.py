"""Ledger activities on the real Temporal dev server: the saga (reserve as a local activity,
settle, release), quota errors, the sweeper and its schedule, and the 80 % email."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

import worker as worker_module
from activities.ledger import (
    LedgerActivities,
    ReleaseInput,
    ReserveInput,
    SettleInput,
    SettleOutput,
    SweepInput,
    SweepResult,
)
from core import ledger, subscriptions
from core.db import Database
from core.models import LedgerEntry, LedgerReservation
from core.models.base import utcnow
from core.plans import Unit
from core.settings import Settings
from providers.email.outbox import read_outbox
from tests.ledger.conftest import MakeUser, give, key
from workflows import BACKGROUND
from workflows.ledger_starters import ensure_sweeper_schedule, schedule_id
from workflows.ledger_sweeper import LedgerSweeperWorkflow


@dataclass
class SagaInput:
    user_id: str
    unit: str
    amount: int
    actual: int
    job_id: str
    fail: bool = False


@workflow.defn(name="LedgerSagaTestWorkflow")
class LedgerSagaTestWorkflow:
    """The job saga's ledger steps: reserve (local), settle (local) or release on failure."""

    @workflow.run
    async def run(self, data: SagaInput) -> SettleOutput | None:
        held = await workflow.execute_local_activity_method(
            LedgerActivities.reserve,
            ReserveInput(
                data.user_id, data.unit, data.amount, data.job_id, data.job_id, workflow.info().workflow_id
            ),
            start_to_close_timeout=timedelta(seconds=10),
        )
        try:
            if data.fail:
                raise ApplicationError("provider failed", non_retryable=True)
            return await workflow.execute_local_activity_method(
                LedgerActivities.settle,
                SettleInput(data.job_id, min(data.actual, held.amount)),
                start_to_close_timeout=timedelta(seconds=10),
            )
        except BaseException:
            await workflow.execute_local_activity_method(
                LedgerActivities.release,
                ReleaseInput(data.job_id, reason="job failed"),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=5),
            )
            raise


@pytest_asyncio.fixture(scope="module")
async def saga_queue(client: Client, worker: worker_module.WorkerDeps) -> AsyncIterator[str]:
    queue = f"ledger-saga-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[LedgerSagaTestWorkflow],
        activities=worker_module.activity_functions(worker),
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield queue


async def run_saga(client: Client, queue: str, data: SagaInput) -> SettleOutput | None:
    return await client.execute_workflow(
        LedgerSagaTestWorkflow.run, data, id=f"job-{data.job_id}", task_queue=queue, result_type=SettleOutput
    )


async def available(db: Database, user_id: str, unit: Unit) -> int:
    async with db.session() as session:
        return await ledger.available(session, user_id, unit)


async def test_saga_reserves_locally_and_settles(
    client: Client, saga_queue: str, db: Database, make_user: MakeUser
) -> None:
    user_id = await make_user()  # the reserve activity puts a new user on Free (20k tokens)
    await give(db, user_id, Unit.tokens, 1000)
    result = await run_saga(client, saga_queue, SagaInput(user_id, "tokens", 400, 250, key()))
    assert result == SettleOutput(charged=250, released=150, overage=0, uncovered=0)
    assert await available(db, user_id, Unit.tokens) == 20_750


async def test_saga_failure_releases(
    client: Client, saga_queue: str, db: Database, make_user: MakeUser
) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.images, 3)
    job = key()
    with pytest.raises(WorkflowFailureError):
        await run_saga(client, saga_queue, SagaInput(user_id, "images", 2, 2, job, fail=True))
    assert await available(db, user_id, Unit.images) == 5  # 3 + Free's 2
    async with db.session() as session:
        row = (
            await session.execute(select(LedgerReservation).where(LedgerReservation.key == job))
        ).scalar_one()
    assert row.status == "released" and row.workflow_id == f"job-{job}"


async def test_quota_exceeded_is_not_retried(
    client: Client, saga_queue: str, db: Database, make_user: MakeUser
) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.videos, 1)
    with pytest.raises(WorkflowFailureError) as failed:
        await run_saga(client, saga_queue, SagaInput(user_id, "videos", 2, 2, key()))
    cause = failed.value.cause
    while isinstance(cause, ActivityError):
        cause = cause.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "quota_exceeded" and cause.non_retryable
    assert cause.details == ({"unit": "videos", "requested": 2, "available": 1},)
    assert "1 available, 2 requested" in cause.message


async def test_sweeper_frees_an_orphaned_reservation(
    client: Client, settings: Settings, worker: worker_module.WorkerDeps, db: Database, make_user: MakeUser
) -> None:
    user_id = await make_user()
    old = utcnow() - timedelta(hours=1)
    async with db.session() as session:
        await ledger.adjust(
            session, user_id=user_id, unit="images", delta=10, actor_id="t", reason="t", key=key(), now=old
        )
    # a job still running: started on a queue no worker polls, so it stays open
    running = await client.start_workflow(
        "NeverPolledJob", id=f"job-running-{uuid.uuid4().hex}", task_queue=f"nobody-{uuid.uuid4().hex}"
    )
    orphan, alive, fresh, closed = key(), key(), key(), key()
    async with db.session() as session:
        for k, workflow_id, at in (
            (orphan, f"job-gone-{uuid.uuid4().hex}", old),  # its workflow never existed / was purged
            (alive, running.id, old),
            (fresh, f"job-gone-{uuid.uuid4().hex}", utcnow()),  # inside the grace period
            (closed, None, old),
        ):
            await ledger.reserve(
                session, user_id=user_id, unit="images", amount=1, key=k, workflow_id=workflow_id, now=at
            )
    assert await available(db, user_id, Unit.images) == 6

    async def sweep() -> SweepResult:
        return await client.execute_workflow(
            LedgerSweeperWorkflow.run,
            SweepInput(grace_seconds=600, limit=1000),
            id=f"ledger-sweep-test-{uuid.uuid4().hex}",
            task_queue=settings.task_queue(BACKGROUND),
        )

    lapsed_user = await make_user()  # a Free user whose period ended while away
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, lapsed_user, utcnow() - timedelta(days=45))
        assert await ledger.available(session, lapsed_user, Unit.images) == 0
    first = await sweep()
    assert first.released >= 2 and first.kept >= 1 and first.renewed >= 1 and first.expired_grants >= 2
    async with db.session() as session:
        assert await ledger.available(session, lapsed_user, Unit.images) == 2
    assert await available(db, user_id, Unit.images) == 8
    await running.terminate("test: the job crashed")
    second = await sweep()
    assert second.released >= 1
    assert await available(db, user_id, Unit.images) == 9  # only the fresh one is still held
    async with db.session() as session:
        rows = (
            await session.execute(select(LedgerReservation).where(LedgerReservation.user_id == user_id))
        ).scalars()
        status = {row.key: row.status for row in rows}
        releases = (
            await session.execute(
                select(LedgerEntry).where(LedgerEntry.user_id == user_id, LedgerEntry.kind == "release")
            )
        ).scalars()
        actors = {entry.key: (entry.actor, entry.reason) for entry in releases}
    assert status == {orphan: "released", alive: "released", fresh: "reserved", closed: "released"}
    assert actors[alive][0] == "sweeper" and "not running" in actors[alive][1]
    assert actors[closed] == ("sweeper", "no workflow")


async def test_sweeper_schedule_is_idempotent_and_runs(
    client: Client, settings: Settings, worker: worker_module.WorkerDeps
) -> None:
    assert await ensure_sweeper_schedule(client, settings) == "created"
    assert await ensure_sweeper_schedule(client, settings) == "updated"
    handle = client.get_schedule_handle(schedule_id(settings))
    try:
        described = await handle.describe()
        assert described.schedule.spec.intervals[0].every == timedelta(
            seconds=settings.ledger_sweep_interval_seconds
        )
        await handle.trigger()
        for _ in range(100):
            described = await handle.describe()
            if described.info.recent_actions:
                break
            await asyncio.sleep(0.1)
        started = described.info.recent_actions[0].action
        workflow_id = started.workflow_id  # type: ignore[attr-defined]
        assert workflow_id.startswith(schedule_id(settings))
        result = await client.get_workflow_handle(workflow_id, result_type=SweepResult).result()
        assert isinstance(result, SweepResult) and result.released >= 0
    finally:
        await handle.delete()


async def test_eighty_percent_email_is_sent_once(
    client: Client, saga_queue: str, settings: Settings, db: Database, make_user: MakeUser
) -> None:
    user_id = await make_user(locale="en")
    async with db.session() as session:
        sub = await subscriptions.ensure_subscription(session, user_id)
    await run_saga(client, saga_queue, SagaInput(user_id, "tokens", 10_000, 10_000, key()))  # 50 %
    notice_key = ledger.WarningNotice(user_id, "tokens", sub.current_period_start, 0).key
    await run_saga(client, saga_queue, SagaInput(user_id, "tokens", 7_000, 6_000, key()))  # 80 %
    await client.get_workflow_handle(notice_key).result()
    await asyncio.gather(
        *(run_saga(client, saga_queue, SagaInput(user_id, "tokens", 500, 500, key())) for _ in range(3))
    )  # 87.5 %: no second email
    async with db.session() as session:
        warned = await session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.user_id == user_id, LedgerEntry.kind == "warning")
        )
        usage = await ledger.usage(session, user_id)
    assert warned == 1 and usage.units["tokens"].used == 17_500
    from core.models import User

    async with db.session() as session:
        email = (await session.get(User, user_id)).email  # type: ignore[union-attr]
    sent = [entry for entry in read_outbox(settings.outbox_dir, limit=1000) if entry.to == email]
    assert len(sent) == 1
    assert sent[0].subject == "You have used 80% of your tokens"
    assert "16,000 of the 20,000 tokens" in sent[0].text and "/usage" in sent[0].text
