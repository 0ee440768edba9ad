"""Open reservations (for the sweeper) and a reservation's owner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    LedgerReservation,
    ReservationStatus,
)


@dataclass(frozen=True)
class OpenReservation:
    key: str
    workflow_id: str | None
    created_at: datetime


async def open_reservations(
    session: AsyncSession, *, older_than: datetime, limit: int = 200
) -> list[OpenReservation]:
    """Reservations still held that were made before ``older_than`` (oldest first)."""
    query = (
        select(LedgerReservation.key, LedgerReservation.workflow_id, LedgerReservation.created_at)
        .where(
            LedgerReservation.status == ReservationStatus.reserved.value,
            LedgerReservation.created_at < older_than,
        )
        .order_by(LedgerReservation.created_at)
        .limit(limit)
    )
    return [OpenReservation(*row) for row in (await session.execute(query)).all()]


async def reservation_owner(session: AsyncSession, key: str) -> tuple[str, str] | None:
    """(user_id, unit) of a reservation, or None."""
    query = select(LedgerReservation.user_id, LedgerReservation.unit).where(LedgerReservation.key == key)
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def job_reservations(session: AsyncSession, job_id: str, workflow_id: str) -> list[str]:
    """Keys of the reservations a job still holds (made under its id or its workflow's)."""
    query = select(LedgerReservation.key).where(
        LedgerReservation.status == ReservationStatus.reserved.value,
        or_(LedgerReservation.job_id == job_id, LedgerReservation.workflow_id == workflow_id),
    )
    return list((await session.execute(query)).scalars())
