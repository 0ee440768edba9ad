"""The support audit log (every grant, refund and support action) and the user look-ups
support actions need."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.models import AuditLog, User


async def audit(
    session: AsyncSession,
    *,
    actor_id: str,
    action: str,
    target_type: str,
    target_id: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason[:500],
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def audit_log(
    session: AsyncSession, *, limit: int = 100, target_id: str | None = None
) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.created_at.desc()).limit(limit)
    if target_id:
        query = query.where(AuditLog.target_id == target_id)
    return list((await session.execute(query)).scalars())


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.execute(query)).scalar_one_or_none()
