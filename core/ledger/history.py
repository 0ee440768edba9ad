"""The user's entries, newest first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    LedgerEntry,
)


async def history(
    session: AsyncSession, user_id: str, *, limit: int = 50, before_id: int | None = None
) -> list[LedgerEntry]:
    """The user's entries, newest first (keyset pagination on the entry id)."""
    query = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    query = query.order_by(LedgerEntry.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())
