"""The same reserve semantics on SQLite (the embedded dev database): writers serialize."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from core import ledger, subscriptions
from core.db import Database
from core.ledger import QuotaExceeded
from core.migrate import upgrade_async
from core.plans import Unit
from tests.ledger.conftest import create_user, give, key


@pytest_asyncio.fixture
async def lite(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await upgrade_async(url)
    database = Database(url)
    yield database
    await database.dispose()


async def test_sqlite_concurrent_reservations_are_exact(lite: Database) -> None:
    user_id = await create_user(lite)
    await give(lite, user_id, Unit.images, 20)

    async def one(i: int) -> bool:
        try:
            async with lite.session() as session:
                await ledger.reserve(session, user_id=user_id, unit="images", amount=1, key=f"s-{i}")
            return True
        except QuotaExceeded:
            return False

    outcomes = await asyncio.gather(*(one(i) for i in range(60)))
    assert outcomes.count(True) == 20
    async with lite.session() as session:
        assert await ledger.available(session, user_id, Unit.images) == 0


async def test_sqlite_same_key_settle_release(lite: Database) -> None:
    user_id = await create_user(lite)
    async with lite.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
    k = key()

    async def reserve() -> ledger.Reservation:
        async with lite.session() as session:
            return await ledger.reserve(
                session, user_id=user_id, unit="tokens", amount=30_000, key=k, min_amount=1_000
            )

    results = await asyncio.gather(*(reserve() for _ in range(8)))
    assert {r.amount for r in results} == {20_000} and results[0].reduced
    async with lite.session() as session:
        assert await ledger.settle(session, key=k, actual=5_000) == ledger.SettleResult(5_000, 15_000, 0)
        assert await ledger.release(session, key=k) is False
        summary = await ledger.usage(session, user_id)
    assert summary.units["tokens"].used == 5_000 and summary.units["tokens"].remaining == 15_000


async def test_sqlite_reads_then_writes_like_the_activity(lite: Database) -> None:
    """The reserve activity reads (ensure_subscription) before it writes: still no 'locked'."""
    users = [await create_user(lite) for _ in range(3)]

    async def one(i: int) -> bool:
        user_id = users[i % 3]
        try:
            async with lite.session() as session:
                await subscriptions.ensure_subscription(session, user_id)
                await ledger.reserve(session, user_id=user_id, unit="images", amount=1, key=f"a-{i}")
            return True
        except QuotaExceeded:
            return False

    outcomes = await asyncio.gather(*(one(i) for i in range(30)))
    assert outcomes.count(True) == 6  # Free: 2 images each
