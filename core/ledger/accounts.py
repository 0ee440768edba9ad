"""The per-user, per-unit account lock and the grant balances operations take from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from core.ledger.statements import (
    _ACTIVE_GRANTS,
    _ADD_TO_GRANT,
    _RESERVATION,
    _TOUCH_ACCOUNT,
    _ReservationRow,
)
from core.models import (
    LedgerAccount,
)
from core.models.base import Base
from core.plans import Unit


def insert_ignore(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING for PostgreSQL and SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model).values(**values).on_conflict_do_nothing()
    return sqlite.insert(model).values(**values).on_conflict_do_nothing()


async def lock_account(session: AsyncSession, user_id: str, unit: Unit | str) -> None:
    """Serialize changes to one user's unit until the transaction ends."""
    params = {"owner": user_id, "owned_unit": str(unit)}
    result = cast(CursorResult[Any], await session.execute(_TOUCH_ACCOUNT, params))
    if result.rowcount == 0:
        row = {"user_id": user_id, "unit": str(unit), "version": 0}
        await session.execute(insert_ignore(session, LedgerAccount, row))
        await session.execute(_TOUCH_ACCOUNT, params)


@dataclass
class _Balance:
    """A grant's id and what is left of it (a plain row: the hot path skips the ORM)."""

    id: str
    remaining: int


async def _active_grants(session: AsyncSession, user_id: str, unit: str, now: datetime) -> list[_Balance]:
    """The user's unexpired grants of a unit, in consumption order."""
    rows = await session.execute(_ACTIVE_GRANTS, {"user_id": user_id, "unit": unit, "now": now})
    return [_Balance(grant_id, remaining) for grant_id, remaining in rows.all()]


async def _reservation(session: AsyncSession, key: str) -> _ReservationRow | None:
    return (await session.execute(_RESERVATION, {"key": key})).first()


def _take(grants: Sequence[_Balance], amount: int) -> list[tuple[_Balance, int]]:
    """Take up to ``amount`` from grants in consumption order; returns (grant, part) pairs."""
    parts: list[tuple[_Balance, int]] = []
    left = amount
    for grant in grants:
        if left == 0:
            break
        part = min(left, grant.remaining)
        if part > 0:
            grant.remaining -= part
            parts.append((grant, part))
            left -= part
    return parts


async def _consume(
    session: AsyncSession, grants: Sequence[_Balance], amount: int
) -> list[tuple[_Balance, int]]:
    """Take up to ``amount`` from grants (``_take``) and write what each grant now has left."""
    parts = _take(grants, amount)
    if parts:
        await session.execute(
            _ADD_TO_GRANT, [{"grant_id": grant.id, "delta": -part} for grant, part in parts]
        )
    return parts
