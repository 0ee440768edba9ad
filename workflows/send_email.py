"""SendEmailWorkflow: render and send one email durably (queue BACKGROUND).

The caller picks the workflow id (``email-<business key>``), which is also the idempotency key:
the activity skips a key it already delivered. Start it with ``workflows.starters.start_email``
from the API or an activity, or from inside another workflow with
``workflow.execute_child_workflow(SendEmailWorkflow.run, SendEmailInput(...), id=...)``.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities, SendEmailInput, SendEmailResult

RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))


@workflow.defn(name="SendEmailWorkflow")
class SendEmailWorkflow:
    @workflow.run
    async def run(self, data: SendEmailInput) -> SendEmailResult:
        within = timedelta(seconds=data.deliver_within_seconds or 24 * 3600)
        return await workflow.execute_activity_method(
            EmailActivities.send,
            data,
            start_to_close_timeout=timedelta(seconds=60),
            schedule_to_close_timeout=within,
            retry_policy=RETRY,
            summary=f"send {data.template} email",
        )
