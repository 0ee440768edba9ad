"""Ids and small helpers shared by the payment workflows (deterministic; no I/O)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.email import SendEmailInput


def checkout_id(payment_id: str) -> str:
    return f"checkout-{payment_id}"


def subscription_id(user_id: str) -> str:
    return f"subscription-{user_id}"


async def send_email(email_id: str, to: str, template: str, locale: str, context: dict[str, object]) -> None:
    """Fire-and-forget SendEmailWorkflow child; its id (``email-…``) is the idempotency key."""
    try:
        await workflow.start_child_workflow(
            "SendEmailWorkflow",
            SendEmailInput(key=email_id, to=to, template=template, locale=locale, context=dict(context)),
            id=email_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
    except WorkflowAlreadyStartedError:
        pass
