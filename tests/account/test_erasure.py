"""Issue 24 item 12, erasure on a schedule: an account past its 14-day grace period is erased
by AccountErasureWorkflow (a Temporal Schedule `pulse worker` keeps, hourly): conversations,
files (rows and stored objects), job outputs, sessions and keys gone, the subscription
cancelled, the email anonymised, payments kept. Idempotent, and a crashed run is finished."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from temporalio.client import Client

from activities.data_export import DataExportActivities, ErasureInput, ErasureResult
from core import erasure
from core.db import Database
from core.models import Conversation, Job, Payment, StoredFile, Subscription, User
from core.models.base import utcnow
from core.settings import Settings
from providers.storage import ASSETS
from tests.account.test_data_export import fill_account
from tests.conftest import SignedIn
from worker import WorkerDeps
from workflows import BACKGROUND
from workflows.data_export import AccountErasureWorkflow, ensure_erasure_schedule, erasure_schedule_id
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionInput, SubscriptionWorkflow

pytestmark = pytest.mark.usefixtures("clamd")


async def stored_keys(db: Database, user_id: str) -> list[tuple[str, str]]:
    async with db.reader() as session:
        return await erasure.owned_objects(session, user_id)


async def past_grace(me: SignedIn, db: Database) -> None:
    """Ask for deletion like the page does, then let 15 days pass."""
    asked = await me.client.post("/v1/account/deletion", json={"confirm_email": me.email})
    assert asked.status_code == 200, asked.text
    async with db.session() as session:
        later = utcnow() - timedelta(days=1)
        await session.execute(update(User).where(User.id == me.user_id).values(delete_after=later))


async def assert_erased(me: SignedIn, db: Database, worker: WorkerDeps, keys: list[tuple[str, str]]) -> None:
    assert keys and all([not await worker.storage.exists(b, k) for b, k in keys])  # type: ignore[arg-type]
    assert (await me.client.get("/v1/auth/me")).status_code == 401  # sessions revoked
    async with db.reader() as session:
        user = await session.get(User, me.user_id)
        assert user is not None and user.deleted_at is not None and user.delete_after is None
        assert user.email == erasure.anonymous_email(me.user_id) and user.name == ""
        for model in (Conversation, StoredFile):
            assert await session.scalar(select(func.count()).where(model.user_id == me.user_id)) == 0
        assert await session.scalar(select(func.count()).where(Payment.user_id == me.user_id)) == 1  # kept
        outputs = (
            (await session.execute(select(Job.outputs).where(Job.user_id == me.user_id))).scalars().all()
        )
        assert outputs and all(not o for o in outputs)  # jobs stay as billing records, without files
        subscription = await session.scalar(select(Subscription).where(Subscription.user_id == me.user_id))
        assert subscription is None or subscription.cancel_at_period_end


async def test_the_schedule_erases_accounts_past_their_grace_period_once(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: WorkerDeps
) -> None:
    me, undone, waiting = await sign_in(locale="en"), await sign_in(), await sign_in()
    await fill_account(me, db)
    renewal = await client.start_workflow(  # a paid plan whose period ends in 20 days
        SubscriptionWorkflow.run,
        SubscriptionInput(me.user_id, "starter", utcnow() + timedelta(days=20), "reg-1", "tx-1"),
        id=subscription_id(me.user_id),
        task_queue=settings.task_queue(BACKGROUND),
    )
    keys = await stored_keys(db, me.user_id)
    assert {bucket for bucket, _key in keys} == {ASSETS} and len(keys) >= 3  # upload + image + thumb
    await past_grace(me, db)
    await past_grace(undone, db)
    assert (await undone.client.delete("/v1/account/deletion")).status_code == 200
    assert (
        await waiting.client.post("/v1/account/deletion", json={"confirm_email": waiting.email})
    ).status_code == 200
    async with db.reader() as session:  # 13 days into the grace period: not yet
        assert waiting.user_id not in await erasure.accounts_to_erase(session, utcnow() + timedelta(days=13))
        assert waiting.user_id in await erasure.accounts_to_erase(session, utcnow() + timedelta(days=15))

    assert await ensure_erasure_schedule(client, settings) == "created"
    assert await ensure_erasure_schedule(client, settings) == "updated"  # every worker start
    handle = client.get_schedule_handle(erasure_schedule_id(settings))
    try:
        described = await handle.describe()
        assert described.schedule.spec.intervals[0].every == timedelta(hours=1)
        await handle.trigger()
        for _ in range(200):
            described = await handle.describe()
            if described.info.recent_actions:
                break
            await asyncio.sleep(0.1)
        workflow_id = described.info.recent_actions[0].action.workflow_id  # type: ignore[attr-defined]
        result = await client.get_workflow_handle(workflow_id, result_type=ErasureResult).result()
    finally:
        await handle.delete()
    assert me.user_id in result.erased and undone.user_id not in result.erased
    try:  # the paid plan is not renewed (charged) again
        assert (await renewal.query(SubscriptionWorkflow.state)).cancel_at_period_end
    finally:
        await renewal.terminate()
    assert waiting.user_id not in result.erased
    await assert_erased(me, db, worker, keys)
    assert (await undone.client.get("/v1/auth/me")).status_code == 200
    assert (await waiting.client.get("/v1/auth/me")).status_code == 200

    again = await client.execute_workflow(  # idempotent: nothing more to do
        AccountErasureWorkflow.run,
        ErasureInput(),
        id=f"erasure-again-{me.user_id}",
        task_queue=settings.task_queue(BACKGROUND),
        result_type=ErasureResult,
    )
    assert me.user_id not in again.erased


async def test_a_crashed_erasure_is_finished_by_the_next_run(
    sign_in: Any, db: Database, worker: WorkerDeps, client: Client, settings: Settings
) -> None:
    me = await sign_in()
    await fill_account(me, db)
    keys = await stored_keys(db, me.user_id)
    await past_grace(me, db)
    async with db.session() as session:  # step 1 done, then the worker died
        assert await erasure.claim(session, me.user_id)
    await worker.storage.delete(*keys[0])  # type: ignore[misc]  # … after deleting one object
    assert (await me.client.post("/v1/account/deletion", json={"confirm_email": me.email})).status_code == 401

    result = await client.execute_workflow(  # a Free account: no renewal workflow to tell
        AccountErasureWorkflow.run,
        ErasureInput(),
        id=f"erasure-resumed-{me.user_id}",
        task_queue=settings.task_queue(BACKGROUND),
        result_type=ErasureResult,
    )
    assert me.user_id in result.erased
    await assert_erased(me, db, worker, keys)
    activities = DataExportActivities(db, worker.storage, worker.bus)
    assert me.user_id not in (await activities.erase_due(ErasureInput())).erased
