"""LedgerSweeperWorkflow: one sweep of the ledger, started by a Temporal Schedule.

It releases reservations whose workflow is no longer running (closed or unknown) once they are
older than the grace period, records expired grants and renews due Free periods.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.ledger import LedgerActivities, SweepInput, SweepResult


@workflow.defn(name="LedgerSweeperWorkflow")
class LedgerSweeperWorkflow:
    @workflow.run
    async def run(self, data: SweepInput) -> SweepResult:
        return await workflow.execute_activity_method(
            LedgerActivities.sweep,
            data,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_attempts=3),
            summary="release orphaned reservations, expire grants, renew Free",
        )
