"""Starting shared workflows from the API, CLI or activities (not loaded by workflow sandboxes)."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.email import SendEmailInput
from core.files import scan_workflow_id
from core.settings import Settings
from workflows import BACKGROUND, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_USER_ID
from workflows.file_scan import FileScanInput, FileScanWorkflow
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


async def start_file_scan(
    client: Client, settings: Settings, file_id: str, user_id: str, locale: str, content_type: str
) -> None:
    """Start the file's scan ``file-<id>`` (the API on complete; the job sweeper for a row left
    without its workflow): a scan already running is left as it is."""
    try:
        await client.start_workflow(
            FileScanWorkflow.run,
            FileScanInput(file_id, user_id, locale),
            id=scan_workflow_id(file_id),
            task_queue=settings.task_queue(BACKGROUND),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, user_id),
                    SearchAttributePair(PULSE_JOB_KIND, "file_scan"),
                    SearchAttributePair(PULSE_JOB_STATUS, "running"),
                ]
            ),
            static_summary=f"scan file · {content_type}",
        )
    except WorkflowAlreadyStartedError:
        pass
