"""PurgeAuthWorkflow: one purge of dead sign-in links and sessions, started daily by a
Temporal Schedule (``pulse admin purge-auth`` does the same by hand)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.accounts import AccountsActivities, PurgeAuthInput, PurgeAuthResult


@workflow.defn(name="PurgeAuthWorkflow")
class PurgeAuthWorkflow:
    @workflow.run
    async def run(self, data: PurgeAuthInput) -> PurgeAuthResult:
        return await workflow.execute_activity_method(
            AccountsActivities.purge_auth,
            data,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="delete dead sign-in links and sessions",
        )
