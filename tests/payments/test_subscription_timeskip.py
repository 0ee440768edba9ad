"""Real durations on Temporal's time-skipping test server: a month's period, then dunning after
1, 3 and 7 days, all failing → Free. (The dev-server tests use seconds-long periods.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest_asyncio
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker as worker_module
from core.accounts import get_or_create_user
from core.models import Payment
from core.settings import Settings
from core.subscriptions import get_subscription, set_plan
from providers.payments.hyperpay import CheckoutRequest, HyperPayClient
from tests.payments.conftest import pay
from workflows.client import binary, data_converter
from workflows.send_email import SendEmailWorkflow
from workflows.subscription import SubscriptionInput, SubscriptionWorkflow

DAY = 86400.0


@pytest_asyncio.fixture
async def skipping(pay_settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=data_converter(pay_settings)
    )
    yield env
    await env.shutdown()


async def test_month_period_and_dunning_days_then_free(
    skipping: WorkflowEnvironment,
    pay_settings: Settings,
    pay_worker: worker_module.WorkerDeps,
    emulator_base: str,
    control: httpx.AsyncClient,
) -> None:
    async with pay_worker.db.session() as session:
        user = await get_or_create_user(session, f"skip-{uuid.uuid4().hex[:8]}@example.com", "en")
        await set_plan(session, user.id, "creator", key=f"test:{user.id}")
    hyperpay = HyperPayClient.from_settings(pay_settings)
    created = await hyperpay.prepare_checkout(
        CheckoutRequest(7000, f"init-{user.id}", user.email, create_registration=True)
    )
    await pay(emulator_base, created.id, "4200000000000000")
    initial = await hyperpay.payment_status(created.id)
    await hyperpay.aclose()
    outcomes = {"outcomes": ["declined"] * 4}
    assert (
        await control.post(f"/registrations/{initial.registration_id}/outcomes", json=outcomes)
    ).is_success
    queue = f"skip-{uuid.uuid4().hex[:8]}"
    started = await skipping.get_current_time()
    async with Worker(
        skipping.client,
        task_queue=queue,
        workflows=[SubscriptionWorkflow, SendEmailWorkflow],
        activities=worker_module.activity_functions(pay_worker),
    ):
        handle = await skipping.client.start_workflow(
            SubscriptionWorkflow.run,
            SubscriptionInput(
                user_id=user.id,
                plan_id="creator",
                period_end=started + timedelta(days=30),
                registration_id=initial.registration_id,
                initial_transaction_id=initial.id,
                dunning_delays_s=[1 * DAY, 3 * DAY, 7 * DAY],
                retry_initial_s=1.0,
            ),
            id=f"subscription-{user.id}",
            task_queue=queue,
        )
        result = await handle.result()
        described = await handle.describe()
    assert described.close_time is not None
    elapsed = described.close_time - started  # the period is counted from `started`, not the start
    assert result == "ended"
    assert timedelta(days=37) <= elapsed < timedelta(days=38)
    async with pay_worker.db.session() as session:
        renewal = (await session.execute(select(Payment).where(Payment.user_id == user.id))).scalar_one()
        subscription = await get_subscription(session, user.id)
    assert renewal.kind == "renewal" and renewal.status == "failed" and renewal.attempts == 4
    assert subscription is not None and subscription.plan_id == "free"
