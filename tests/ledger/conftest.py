"""Ledger fixtures: users with a plan or exact grants, on the session's PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from core import ledger
from core.db import Database
from core.models import User
from core.plans import Unit

MakeUser = Callable[..., Awaitable[str]]


async def create_user(db: Database, *, locale: str = "en", email: str | None = None) -> str:
    async with db.session() as session:
        user = User(email=email or f"ledger-{uuid.uuid4().hex[:12]}@example.com", locale=locale)
        session.add(user)
        await session.flush()
        return user.id


async def give(db: Database, user_id: str, unit: Unit, amount: int, *, months: int = 1) -> None:
    """An exact adjust grant (so tests do not depend on plan sizes)."""
    async with db.session() as session:
        await ledger.adjust(
            session,
            user_id=user_id,
            unit=unit,
            delta=amount,
            actor_id="test",
            reason="test grant",
            key=f"give-{uuid.uuid4().hex}",
            expires_at=datetime.now(UTC) + timedelta(days=30 * months),
        )


@pytest.fixture
def make_user(db: Database) -> MakeUser:
    async def make(**kwargs: object) -> str:
        return await create_user(db, **kwargs)  # type: ignore[arg-type]

    return make


def key() -> str:
    return f"k-{uuid.uuid4().hex}"
