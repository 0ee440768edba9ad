"""RefundRetryWorkflow (id ``refund-<failed refund>``): support's retry of a refund HyperPay
rejected. One run per record at a time (a double click joins the running one); its activity
asks HyperPay before refunding, so a refund is never sent twice."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.refunds import RefundActivities, RefundRetryInput, RefundRetryResult

__all__ = ["RefundRetryInput", "RefundRetryResult", "RefundRetryWorkflow", "refund_workflow_id"]


def refund_workflow_id(refund_id: str) -> str:
    return f"refund-{refund_id}"


@workflow.defn(name="RefundRetryWorkflow")
class RefundRetryWorkflow:
    @workflow.run
    async def run(self, data: RefundRetryInput) -> RefundRetryResult:
        return await workflow.execute_activity_method(
            RefundActivities.retry_refund,
            data,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=data.retry_initial_s),
                maximum_interval=timedelta(seconds=60),
                maximum_attempts=20,
            ),
            summary="retry a refund HyperPay rejected",
        )
