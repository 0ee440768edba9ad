"""The one place that writes a ledger entry (every change is an entry with who and why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.ledger.statements import _INSERT_ENTRY
from core.models import (
    EntryKind,
)


async def _entry(
    session: AsyncSession,
    *,
    user_id: str,
    unit: str,
    kind: EntryKind,
    amount: int,
    key: str,
    now: datetime,
    job_id: str | None = None,
    actor: str = "system",
    reason: str = "",
    **meta: Any,
) -> None:
    row = {
        "user_id": user_id,
        "unit": unit,
        "kind": kind.value,
        "amount": amount,
        "key": key,
        "job_id": job_id,
        "actor": actor,
        "reason": reason,
        "meta": meta,
        "created_at": now,
    }
    await session.execute(_INSERT_ENTRY, row)
