"""The support console in words: audit events and their targets labelled in the page's
language (no raw event names or ids), with people shown by email."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import AuditLog, User

AUDIT_LABELS = {
    "role.granted": "Role granted",
    "user.lookup": "Account looked up",
    "payment.retry": "Payment retried",
    "subscription.set_plan": "Plan changed",
    "quota.adjust": "Balance adjusted",
}
TARGET_LABELS = {"user": "Account", "payment": "Payment", "subscription": "Subscription"}
UNKNOWN_EVENT = "Other action"


def audit_label(action: str) -> str:
    return AUDIT_LABELS.get(action, UNKNOWN_EVENT)


def target_label(target_type: str) -> str:
    return TARGET_LABELS.get(target_type, "Record")


async def emails_by_id(session: AsyncSession, entries: Iterable[AuditLog]) -> dict[str, str]:
    """The emails of the audit log's actors and user targets (one query)."""
    ids = {e.actor_id for e in entries} | {e.target_id for e in entries if e.target_type == "user"}
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.email).where(User.id.in_(ids)))
    return {str(user_id): str(email) for user_id, email in rows.all()}  # noqa: C416 (typed)
