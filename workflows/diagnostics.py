"""DiagnosticsWorkflow: proves the pipe API/CLI → Temporal → worker → database works."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.diagnostics import DiagnosticsActivities, DiagnosticsInput, DiagnosticsResult


@workflow.defn(name="DiagnosticsWorkflow")
class DiagnosticsWorkflow:
    @workflow.run
    async def run(self, data: DiagnosticsInput) -> DiagnosticsResult:
        return await workflow.execute_activity_method(
            DiagnosticsActivities.write_and_read,
            data,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=5),
            summary="write and read back a row",
        )
