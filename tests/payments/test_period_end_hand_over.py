"""A plan handed over in the same workflow task as the period-end timer: the handed-over period
counts, so the old period is not renewed (the renewal would charge the new plan at once, for a
period already paid). The Temporal dev server; no activity runs, so no database is needed.

(Written for an edge a review suspected; today's code already passes: the SDK applies the
signal before the timer's resolution, and the period loop looks again.)"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from core.models.base import utcnow
from workflows.subscription import SubscriptionInput, SubscriptionWorkflow

SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
TIMER_FIRED = EventType.EVENT_TYPE_TIMER_FIRED
SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
TASK_STARTED = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
TASK_DONE = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
Handle = WorkflowHandle[SubscriptionWorkflow, str]


async def _events(handle: Handle) -> list[EventType.ValueType]:
    return [event.event_type async for event in handle.fetch_history_events()]


async def _until(handle: Handle, event: EventType.ValueType, count: int) -> None:
    """Until the history holds ``count`` events of type ``event``."""
    async with asyncio.timeout(60):
        while (await _events(handle)).count(event) < count:  # noqa: ASYNC110 - polls the server
            await asyncio.sleep(0.2)


def _worker(client: Client, queue: str) -> Worker:
    return Worker(client, task_queue=queue, workflows=[SubscriptionWorkflow], max_cached_workflows=0)


async def test_a_hand_over_landing_with_the_period_end_timer_is_not_renewed(client: Client) -> None:
    queue = f"period-end-{uuid.uuid4().hex[:8]}"
    first = SubscriptionInput(
        user_id=f"u{uuid.uuid4().hex[:12]}",
        plan_id="starter",
        period_end=utcnow() + timedelta(seconds=10),  # time for the worker to start
        registration_id="reg-old",
        initial_transaction_id="initial-old",
    )
    async with _worker(client, queue):
        handle = await client.start_workflow(
            SubscriptionWorkflow.run, first, id=f"subscription-{first.user_id}", task_queue=queue
        )
        await _until(handle, TASK_DONE, 1)  # waiting for period end; the worker goes away
    await _until(handle, TIMER_FIRED, 1)  # the period ended with no worker to see it
    bought = SubscriptionInput(
        user_id=first.user_id,
        plan_id="pro",
        period_end=utcnow() + timedelta(days=30),
        registration_id="reg-new",
        initial_transaction_id="initial-new",
        opened_by="payment:bought",
    )
    await handle.signal(SubscriptionWorkflow.plan_purchased, bought)
    try:
        async with _worker(client, queue):
            await _until(handle, TASK_DONE, 2)
            state = await handle.query(SubscriptionWorkflow.state)
        events = await _events(handle)
        second_task = [i for i, event in enumerate(events) if event == TASK_STARTED][1]
        assert {TIMER_FIRED, SIGNALED} <= set(events[:second_task])  # one task saw both
        assert (state.plan_id, state.period_end) == ("pro", bought.period_end)
        assert SCHEDULED not in events, "the paid-for new period was renewed at once"
    finally:
        await handle.terminate("test over")
