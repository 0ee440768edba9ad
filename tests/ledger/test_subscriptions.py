"""Subscriptions: Free for new users, lazy monthly renewal, plan changes idempotent by key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import ledger, subscriptions
from core.db import Database
from core.models import LedgerEntry, LedgerGrant, Subscription
from core.plans import PlanNotFound, Unit
from tests.ledger.conftest import MakeUser, key

NOW = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


async def grant_count(db: Database, user_id: str) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(LedgerGrant).where(LedgerGrant.user_id == user_id)
        return int(await session.scalar(query) or 0)


async def test_a_new_user_is_on_free_once(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()

    async def ensure() -> Subscription:
        async with db.session() as session:
            return await subscriptions.ensure_subscription(session, user_id, NOW)

    subs = await asyncio.gather(*(ensure() for _ in range(10)))
    assert {s.id for s in subs} == {subs[0].id}
    assert subs[0].plan_id == "free" and subs[0].status == "active"
    assert subs[0].current_period_end == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert await grant_count(db, user_id) == 2  # tokens and images; Free has no videos
    async with db.session() as session:
        usage = await ledger.usage(session, user_id, NOW)
    assert usage.plan_id == "free"
    assert usage.units["tokens"].granted == 20_000 and usage.units["images"].granted == 2
    assert usage.units["videos"].granted == 0


async def test_free_renews_itself_lazily(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id, NOW)
        await ledger.reserve(session, user_id=user_id, unit="images", amount=2, key=key(), now=NOW)
        assert await ledger.available(session, user_id, Unit.images, NOW) == 0
    later = NOW + timedelta(days=70)  # two periods later
    async with db.session() as session:
        renewed = await subscriptions.ensure_subscription(session, user_id, later)
        assert renewed.current_period_start <= later < renewed.current_period_end
        assert renewed.current_period_start == datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
        assert await ledger.available(session, user_id, Unit.images, later) == 2
        assert await ledger.available(session, user_id, Unit.tokens, later) == 20_000
    async with db.session() as session:
        assert await subscriptions.ensure_subscription(session, user_id, later) is not None
    assert await grant_count(db, user_id) == 4


async def test_renew_due_renews_free_users(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id, NOW - timedelta(days=400))
    async with db.session() as session:
        assert await subscriptions.renew_due(session, NOW) >= 1
        sub = await subscriptions.get_subscription(session, user_id)
    assert sub is not None and sub.current_period_start <= NOW < sub.current_period_end


async def test_set_plan_opens_a_new_period(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id, NOW)
        await ledger.grant_addon(session, user_id, "images_10", key(), NOW)
        await ledger.reserve(session, user_id=user_id, unit="tokens", amount=5_000, key=key(), now=NOW)
    change_at = NOW + timedelta(days=3)
    k = key()

    async def change() -> None:
        async with db.session() as session:
            await subscriptions.set_plan(
                session, user_id, "pro", change_at, k, actor="support-9", reason="goodwill"
            )

    await asyncio.gather(*(change() for _ in range(5)))
    async with db.session() as session:
        sub = await subscriptions.get_subscription(session, user_id)
        assert sub is not None and sub.plan_id == "pro"
        assert sub.current_period_start == change_at
        assert await ledger.available(session, user_id, Unit.tokens, change_at) == 1_000_000
        assert await ledger.available(session, user_id, Unit.images, change_at) == 70  # add-on survives
        assert await ledger.available(session, user_id, Unit.videos, change_at) == 2
        expired = (
            await session.execute(
                select(LedgerEntry).where(LedgerEntry.user_id == user_id, LedgerEntry.kind == "expire")
            )
        ).scalars()
        assert sorted((e.unit, e.amount) for e in expired) == [("images", 2), ("tokens", 15_000)]
        granted = (
            await session.execute(
                select(LedgerEntry).where(LedgerEntry.user_id == user_id, LedgerEntry.key.like(f"{k}:%"))
            )
        ).scalars()
        assert sorted((e.unit, e.actor, e.reason) for e in granted) == [
            ("images", "support-9", "goodwill"),
            ("tokens", "support-9", "goodwill"),
            ("videos", "support-9", "goodwill"),
        ]


async def test_unknown_plan(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    with pytest.raises(PlanNotFound):
        async with db.session() as session:
            await subscriptions.set_plan(session, user_id, "platinum", NOW, key())


async def test_a_cancelled_paid_plan_falls_back_to_free(db: Database, make_user: MakeUser) -> None:
    user_id = await make_user()
    async with db.session() as session:
        sub = await subscriptions.set_plan(session, user_id, "starter", NOW, key())
        sub.cancel_at_period_end = True
    later = NOW + timedelta(days=35)
    async with db.session() as session:
        sub = await subscriptions.ensure_subscription(session, user_id, later)
        assert sub.plan_id == "free" and sub.cancel_at_period_end is False
        assert await ledger.available(session, user_id, Unit.tokens, later) == 20_000


async def test_first_access_racing_a_plan_change(db: Database, make_user: MakeUser) -> None:
    """A new user's first reserve (ensure) racing a payment's plan change: no deadlock, one plan."""
    for _ in range(3):
        user_id = await make_user()
        k = key()

        async def ensure(user_id: str = user_id) -> None:
            async with db.session() as session:
                await subscriptions.ensure_subscription(session, user_id, NOW)

        async def change(user_id: str = user_id, k: str = k) -> None:
            async with db.session() as session:
                await subscriptions.set_plan(session, user_id, "pro", NOW, k)

        await asyncio.gather(*(f() for _ in range(4) for f in (ensure, change)))
        async with db.session() as session:
            sub = await subscriptions.get_subscription(session, user_id)
            assert sub is not None and sub.plan_id == "pro"
            assert await ledger.available(session, user_id, Unit.tokens, NOW) == 1_000_000
            assert await ledger.available(session, user_id, Unit.images, NOW) == 60


async def test_a_renewal_paid_early_keeps_the_current_period(db: Database, make_user: MakeUser) -> None:
    """Payments renews with period_start = the current period's end: nothing is lost meanwhile."""
    user_id = await make_user()
    async with db.session() as session:
        first = await subscriptions.set_plan(session, user_id, "starter", NOW, key())
        end = first.current_period_end
    paid_at = end - timedelta(days=1)
    async with db.session() as session:
        renewed = await subscriptions.set_plan(session, user_id, "starter", paid_at, key(), period_start=end)
        assert renewed.current_period_start == end
        assert (
            await ledger.available(session, user_id, Unit.tokens, paid_at) == 300_000
        )  # still the old period
        assert await ledger.available(session, user_id, Unit.tokens, end) == 300_000  # the new one
    async with db.session() as session:
        await ledger.expire_due_grants(session, end, limit=100_000)
        assert await ledger.available(session, user_id, Unit.tokens, end) == 300_000
        expired = (
            await session.execute(
                select(LedgerEntry).where(LedgerEntry.user_id == user_id, LedgerEntry.kind == "expire")
            )
        ).scalars()
        assert sorted((e.unit, e.amount) for e in expired) == [("images", 20), ("tokens", 300_000)]
