"""Idempotency keys are scoped per user (#15 item 13): one user's key never answers with, or
swallows, another user's operation; support's keys are prefixed with the target user."""

from __future__ import annotations

import pytest

from core import ledger
from core.db import Database
from core.ledger import KeyInUse
from core.plans import Unit
from tests.ledger.conftest import MakeUser, give, key


async def test_another_users_reservation_key_is_refused_not_returned(
    db: Database, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    for someone in (alice, bob):
        await give(db, someone, Unit.images, 5)
    shared = key()
    async with db.session() as session:
        await ledger.reserve(session, user_id=alice, unit=Unit.images, amount=2, key=shared)
    with pytest.raises(KeyInUse):
        async with db.session() as session:
            await ledger.reserve(session, user_id=bob, unit=Unit.images, amount=3, key=shared)
    async with db.session() as session:
        assert await ledger.available(session, alice, Unit.images) == 3
        assert await ledger.available(session, bob, Unit.images) == 5  # nothing swallowed or taken


async def test_another_users_adjust_key_is_refused_and_changes_nothing(
    db: Database, make_user: MakeUser
) -> None:
    alice, bob = await make_user(), await make_user()
    for someone in (alice, bob):
        await give(db, someone, Unit.tokens, 100)
    shared = key()
    async with db.session() as session:
        applied = await ledger.adjust(
            session, user_id=alice, unit=Unit.tokens, delta=-40, actor_id="support", reason="fix", key=shared
        )
    assert applied == -40
    with pytest.raises(KeyInUse):  # before: bob's correction answered -40 and did nothing
        async with db.session() as session:
            await ledger.adjust(
                session,
                user_id=bob,
                unit=Unit.tokens,
                delta=-10,
                actor_id="support",
                reason="fix",
                key=shared,
            )
    async with db.session() as session:
        assert await ledger.available(session, alice, Unit.tokens) == 60
        assert await ledger.available(session, bob, Unit.tokens) == 100


async def test_a_grant_key_of_another_user_is_refused(db: Database, make_user: MakeUser) -> None:
    alice, bob = await make_user(), await make_user()
    shared = key()
    async with db.session() as session:
        await ledger.adjust(
            session, user_id=alice, unit=Unit.videos, delta=1, actor_id="s", reason="r", key=shared
        )
    with pytest.raises(KeyInUse):
        async with db.session() as session:
            await ledger.adjust(
                session, user_id=bob, unit=Unit.videos, delta=1, actor_id="s", reason="r", key=shared
            )
