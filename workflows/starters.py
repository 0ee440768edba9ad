"""Starting shared workflows from the API, CLI or activities (not loaded by workflow sandboxes)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.email import SendEmailInput
from core.settings import Settings
from workflows import BACKGROUND
from workflows.send_email import SendEmailWorkflow


def email_id(key: str) -> str:
    return f"email-{key}"


async def start_email(
    client: Client,
    settings: Settings,
    *,
    workflow_id: str,
    to: str,
    template: str,
    locale: str,
    context: dict[str, Any],
    deliver_within_seconds: int | None = None,
) -> None:
    """Start SendEmailWorkflow once per ``workflow_id``: a second start (running or finished) is a no-op."""
    data = SendEmailInput(
        key=workflow_id,
        to=to,
        template=template,
        locale=locale,
        context=context,
        deliver_within_seconds=deliver_within_seconds,
    )
    try:
        await client.start_workflow(
            SendEmailWorkflow.run,
            data,
            id=workflow_id,
            task_queue=settings.task_queue(BACKGROUND),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            static_summary=f"email: {template}",
        )
    except WorkflowAlreadyStartedError:
        pass
