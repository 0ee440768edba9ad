"""Keeping one SubscriptionWorkflow per paid period, from outside a workflow (#15 item 5).

Every path that sets a plan calls :func:`sync_subscription`: a paid plan starts the user's
``subscription-<user>`` workflow or hands it the new period (signal-with-start of
``plan_purchased``); Free ends it. :func:`repair_subscriptions` finds paid periods whose
workflow is missing (a support change before this existed, a workflow that failed) and starts
them; ``pulse admin repair-subscriptions`` runs it and prints what it found.
"""

from __future__ import annotations

import asyncio

import structlog
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from core.db import Database
from core.payments import PaidPeriod, paid_periods
from core.plans import FREE
from core.settings import Settings
from workflows import BACKGROUND, PULSE_JOB_KIND, PULSE_PROVIDER, PULSE_USER_ID
from workflows.payments_common import subscription_id
from workflows.subscription import SubscriptionInput, SubscriptionWorkflow

log = structlog.get_logger(__name__)


def subscription_input(settings: Settings, period: PaidPeriod) -> SubscriptionInput:
    period_s = settings.payments_renewal_period_s or None
    return SubscriptionInput(
        user_id=period.user_id,
        plan_id=period.plan_id,
        period_end=period.current_period_end,
        registration_id=period.registration_id or "",
        initial_transaction_id=period.initial_transaction_id or "",
        period_s=period_s,
        dunning_delays_s=[days * 86400.0 for days in settings.payments_dunning_days],
        retry_initial_s=settings.payments_retry_initial_s,
        cancel_at_period_end=period.cancel_at_period_end,
        pending_poll_s=settings.payments_poll_initial_s,
        anchor=period.current_period_start,
        opened_by=period.opened_by,
        sequence=period.sequence,
    )


async def sync_subscription(client: Client, settings: Settings, period: PaidPeriod) -> None:
    """Start or update the user's SubscriptionWorkflow for ``period``; Free ends it."""
    workflow_id = subscription_id(period.user_id)
    if period.plan_id == FREE:
        try:
            await client.get_workflow_handle(workflow_id).terminate("plan set to Free")
        except RPCError:
            pass  # none was running
        return
    data = subscription_input(settings, period)
    await client.start_workflow(
        SubscriptionWorkflow.run,
        data,
        id=workflow_id,
        task_queue=settings.task_queue(BACKGROUND),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal="plan_purchased",
        start_signal_args=[data],
        static_summary=f"subscription {period.plan_id}",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(PULSE_USER_ID, period.user_id),
                SearchAttributePair(PULSE_JOB_KIND, "subscription"),
                SearchAttributePair(PULSE_PROVIDER, "hyperpay"),
            ]
        ),
    )


async def has_workflow(client: Client, user_id: str) -> bool:
    try:
        described = await client.get_workflow_handle(subscription_id(user_id)).describe()
    except RPCError:
        return False
    return described.status == WorkflowExecutionStatus.RUNNING


async def repair_subscriptions(client: Client, settings: Settings, periods: list[PaidPeriod]) -> list[str]:
    """Start the workflow of every paid period that has none; returns the users repaired."""
    repaired = []
    for period in periods:
        if period.plan_id == FREE or await has_workflow(client, period.user_id):
            continue
        log.warning("payments.subscription_workflow_missing", user_id=period.user_id, plan_id=period.plan_id)
        await sync_subscription(client, settings, period)
        repaired.append(period.user_id)
    return repaired


async def repair_once(client: Client, settings: Settings, db: Database) -> list[str]:
    """One pass of the repair over every running paid period (what the worker's loop runs)."""
    async with db.reader() as session:
        periods = await paid_periods(session)
    return await repair_subscriptions(client, settings, periods)


async def repair_forever(client: Client, settings: Settings, db: Database, every_s: float) -> None:
    """The background worker's loop: every paid period keeps exactly one renewal workflow, even
    when the path that set the plan could not reach Temporal. A failed pass is logged and retried."""
    while True:
        try:
            repaired = await repair_once(client, settings, db)
            if repaired:
                log.warning("payments.subscriptions_repaired", count=len(repaired))
        except Exception as error:  # noqa: BLE001 - an outage delays the repair, never stops it
            log.warning("payments.subscription_repair_failed", error=type(error).__name__)
        await asyncio.sleep(every_s)
