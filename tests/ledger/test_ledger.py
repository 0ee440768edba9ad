"""The quota ledger on PostgreSQL: exact under concurrency, idempotent by key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import ledger
from core.db import Database
from core.ledger import AdjustTooLarge, InvalidUnit, QuotaExceeded, ReasonRequired, ReservationNotFound
from core.models import LedgerEntry, LedgerGrant, LedgerHold, LedgerReservation
from core.plans import Unit
from tests.ledger.conftest import MakeUser, give, key


async def available(db: Database, user_id: str, unit: Unit) -> int:
    async with db.session() as session:
        return await ledger.available(session, user_id, unit)


async def entries(db: Database, user_id: str, kind: str) -> list[LedgerEntry]:
    async with db.session() as session:
        query = select(LedgerEntry).where(LedgerEntry.user_id == user_id, LedgerEntry.kind == kind)
        return list((await session.execute(query)).scalars())


async def reserve(
    db: Database, user_id: str, unit: Unit, amount: int, k: str, **kw: object
) -> ledger.Reservation:
    async with db.session() as session:
        return await ledger.reserve(session, user_id=user_id, unit=unit, amount=amount, key=k, **kw)  # type: ignore[arg-type]


async def settle(db: Database, k: str, actual: int) -> ledger.SettleResult:
    async with db.session() as session:
        return await ledger.settle(session, key=k, actual=actual)


async def release(db: Database, k: str) -> bool:
    async with db.session() as session:
        return await ledger.release(session, key=k)


async def test_200_concurrent_reservations_against_50(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.images, 50)
    low_water: list[int] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            low_water.append(await available(db, user_id, Unit.images))
            await asyncio.sleep(0)

    async def one(i: int) -> bool:
        try:
            await reserve(db, user_id, Unit.images, 1, f"{user_id}-c-{i}")
            return True
        except QuotaExceeded:
            return False

    watcher = asyncio.create_task(watch())
    outcomes = await asyncio.gather(*(one(i) for i in range(200)))
    done.set()
    await watcher
    assert outcomes.count(True) == 50
    assert outcomes.count(False) == 150
    assert await available(db, user_id, Unit.images) == 0
    assert low_water and min(low_water) >= 0
    async with db.session() as session:
        held = await session.scalar(
            select(func.sum(LedgerHold.amount))
            .join(LedgerReservation, LedgerReservation.id == LedgerHold.reservation_id)
            .where(LedgerReservation.user_id == user_id)
        )
        remaining = await session.scalar(
            select(func.sum(LedgerGrant.remaining)).where(LedgerGrant.user_id == user_id)
        )
    assert held == 50 and remaining == 0
    assert len(await entries(db, user_id, "reserve")) == 50


async def test_same_key_twice_counts_once(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.tokens, 1000)
    k = key()
    first = await reserve(db, user_id, Unit.tokens, 300, k)
    again = await reserve(db, user_id, Unit.tokens, 300, k)
    concurrent = await asyncio.gather(*(reserve(db, user_id, Unit.tokens, 300, k) for _ in range(20)))
    assert first == again and all(result == first for result in concurrent)
    assert await available(db, user_id, Unit.tokens) == 700
    assert len(await entries(db, user_id, "reserve")) == 1
    settled = await asyncio.gather(*(settle(db, k, 100) for _ in range(10)))
    assert all(result == settled[0] for result in settled)
    assert settled[0] == ledger.SettleResult(charged=100, released=200, overage=0)
    assert await available(db, user_id, Unit.tokens) == 900
    assert len(await entries(db, user_id, "settle")) == 1


async def test_settle_below_the_reservation_releases_the_rest(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.tokens, 100)
    k = key()
    await reserve(db, user_id, Unit.tokens, 30, k, job_id="job-1")
    assert await available(db, user_id, Unit.tokens) == 70
    assert await settle(db, k, 10) == ledger.SettleResult(charged=10, released=20, overage=0)
    assert await available(db, user_id, Unit.tokens) == 90
    [entry] = await entries(db, user_id, "settle")
    assert entry.amount == 10 and entry.job_id == "job-1" and entry.meta["released"] == 20


async def test_settle_above_the_reservation(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.tokens, 100)
    k = key()
    await reserve(db, user_id, Unit.tokens, 30, k)
    assert await settle(db, k, 50) == ledger.SettleResult(charged=50, released=0, overage=20)
    assert await available(db, user_id, Unit.tokens) == 50
    # above what is left: charged up to what is available, the rest recorded as uncovered
    k2, k3 = key(), key()
    await reserve(db, user_id, Unit.tokens, 20, k2)
    await reserve(db, user_id, Unit.tokens, 25, k3)
    assert await available(db, user_id, Unit.tokens) == 5
    result = await settle(db, k2, 40)
    assert result == ledger.SettleResult(charged=25, released=0, overage=5, uncovered=15)
    assert await available(db, user_id, Unit.tokens) == 0
    assert await settle(db, k2, 40) == result  # once
    assert await settle(db, k3, 25) == ledger.SettleResult(charged=25, released=0, overage=0)
    async with db.session() as session:
        usage = await ledger.usage(session, user_id)
    assert usage.units["tokens"].used == 100 and usage.units["tokens"].remaining == 0


async def test_release_after_settle_changes_nothing(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.images, 5)
    k = key()
    await reserve(db, user_id, Unit.images, 2, k)
    await settle(db, k, 2)
    assert await available(db, user_id, Unit.images) == 3
    assert await release(db, k) is False
    assert await available(db, user_id, Unit.images) == 3
    assert await entries(db, user_id, "release") == []


async def test_release_once_and_unknown_key(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.images, 5)
    k = key()
    await reserve(db, user_id, Unit.images, 4, k)
    results = await asyncio.gather(*(release(db, k) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert await available(db, user_id, Unit.images) == 5
    assert await release(db, "no-such-key") is False
    with pytest.raises(ReservationNotFound):
        await settle(db, "no-such-key", 1)


async def test_settle_after_a_release_still_charges_once(db: Database, make_user: MakeUser) -> None:
    """A job whose reservation was swept still pays for what it used, from what is left."""
    user_id = await make_user()
    await give(db, user_id, Unit.tokens, 100)
    k = key()
    await reserve(db, user_id, Unit.tokens, 40, k)
    await release(db, k)
    assert await settle(db, k, 30) == ledger.SettleResult(charged=30, released=0, overage=30)
    assert await settle(db, k, 30) == ledger.SettleResult(charged=30, released=0, overage=30)
    assert await available(db, user_id, Unit.tokens) == 70


async def test_tokens_shrink_to_a_useful_minimum(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.tokens, 100)
    reduced = await reserve(db, user_id, Unit.tokens, 150, key(), min_amount=50)
    assert reduced.amount == 100 and reduced.reduced is True
    with pytest.raises(QuotaExceeded) as refused:
        await reserve(db, user_id, Unit.tokens, 150, key(), min_amount=1)
    assert refused.value.available == 0 and refused.value.code == "quota_exceeded"
    await give(db, user_id, Unit.images, 1)
    with pytest.raises(QuotaExceeded):  # only tokens shrink
        await reserve(db, user_id, Unit.images, 2, key(), min_amount=1)
    with pytest.raises(InvalidUnit):
        await reserve(db, user_id, "minutes", 1, key())  # type: ignore[arg-type]


async def test_plan_grants_first_then_addons_by_expiry(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    now = datetime.now(UTC)
    async with db.session() as session:
        await ledger.grant_addon(session, user_id, "tokens_200k", key(), now - timedelta(days=10))
        late = await ledger.grant_addon(session, user_id, "tokens_200k", key(), now - timedelta(days=5))
        await ledger.grant_period(
            session, user_id, "free", now - timedelta(days=1), now + timedelta(days=29), key()
        )
    assert await available(db, user_id, Unit.tokens) == 420_000
    await reserve(db, user_id, Unit.tokens, 220_010, key())
    async with db.session() as session:
        grants = (await session.execute(select(LedgerGrant).where(LedgerGrant.user_id == user_id))).scalars()
        remaining = {(g.source, g.id == late.id): g.remaining for g in grants}
    assert remaining == {("plan", False): 0, ("addon", False): 0, ("addon", True): 199_990}


async def test_adjust_with_actor_and_reason(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    k = key()
    async with db.session() as session:
        applied = await ledger.adjust(
            session, user_id=user_id, unit="images", delta=3, actor_id="support-1", reason="refund", key=k
        )
        again = await ledger.adjust(
            session, user_id=user_id, unit="images", delta=3, actor_id="support-1", reason="refund", key=k
        )
    assert applied == again == 3
    assert await available(db, user_id, Unit.images) == 3
    async with db.session() as session:
        await ledger.adjust(
            session, user_id=user_id, unit="images", delta=-2, actor_id="support-2", reason="abuse", key=key()
        )
    assert await available(db, user_id, Unit.images) == 1
    with pytest.raises(AdjustTooLarge):
        async with db.session() as session:
            await ledger.adjust(
                session, user_id=user_id, unit="images", delta=-2, actor_id="s", reason="x", key=key()
            )
    with pytest.raises(ReasonRequired):
        async with db.session() as session:
            await ledger.adjust(
                session, user_id=user_id, unit="images", delta=1, actor_id="s", reason=" ", key=key()
            )
    adjusts = await entries(db, user_id, "adjust")
    assert sorted((e.amount, e.actor, e.reason) for e in adjusts) == [
        (-2, "support-2", "abuse"),
        (3, "support-1", "refund"),
    ]


async def test_expired_grants_are_not_available(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    now = datetime.now(UTC)
    async with db.session() as session:
        await ledger.adjust(
            session,
            user_id=user_id,
            unit="videos",
            delta=2,
            actor_id="t",
            reason="short-lived",
            key=key(),
            expires_at=now + timedelta(seconds=1),
            now=now,
        )
        assert await ledger.available(session, user_id, Unit.videos, now) == 2
        assert await ledger.available(session, user_id, Unit.videos, now + timedelta(seconds=2)) == 0
        with pytest.raises(QuotaExceeded):
            await ledger.reserve(
                session, user_id=user_id, unit="videos", amount=1, key=key(), now=now + timedelta(seconds=2)
            )
    async with db.session() as session:
        expired = await ledger.expire_due_grants(session, now + timedelta(seconds=2))
    assert expired >= 1
    [entry] = await entries(db, user_id, "expire")
    assert entry.amount == 2 and entry.actor == "sweeper"


async def test_history_is_paginated_newest_first(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    await give(db, user_id, Unit.images, 10)
    for _ in range(4):
        await reserve(db, user_id, Unit.images, 1, key())
    async with db.session() as session:
        first = await ledger.history(session, user_id, limit=3)
        rest = await ledger.history(session, user_id, limit=3, before_id=first[-1].id)
    assert [e.kind for e in first] == ["reserve", "reserve", "reserve"]
    assert [e.kind for e in rest] == ["reserve", "adjust", "grant"]
    assert len({e.id for e in first + rest}) == 6
