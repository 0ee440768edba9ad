"""A chat turn's database work rehearsed once at start-up, then rolled back (docs/chat.md
"Cold start").

The first turn of a fresh process compiled each of its statements (SQLAlchemy caches the
compiled form per engine), prepared them on its connection (asyncpg) and imported PyJWT on its
first authenticated request: ~100 ms on its path. Here a throwaway user signs in, starts a
turn, reserves, has its reply stored and settled — the same functions, hence the same cached
statements — in one transaction that is rolled back: nothing is kept, no one is billed, and no
other account's rows are touched (the throwaway user's own lock is the only one taken)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core import chat, files, ledger, subscriptions, turn_quota
from core.accounts import authenticate_session_token, create_session
from core.catalog import MODELS, default_output_tokens
from core.db import Database
from core.models import User
from core.models.base import new_id
from core.settings import Settings

WARM_UP_DOMAIN = "warm-up.invalid"  # RFC 2606: never a real address


async def rehearse_turn(db: Database, settings: Settings) -> None:
    """Run a turn's statements in one transaction and roll it back."""
    async with db.sessions() as session:
        try:
            await _turn(session, settings)
        finally:
            await session.rollback()
    async with db.reader() as session:  # the reads that run outside a transaction
        await chat.stored_reply(session, new_id())
        await files.files_of_jobs(session, [new_id()])


async def _turn(session: AsyncSession, settings: Settings) -> None:
    user = User(email=f"{uuid.uuid4().hex}@{WARM_UP_DOMAIN}", locale="ar")
    session.add(user)
    await session.flush()
    issued = await create_session(session, settings, user)
    await authenticate_session_token(session, settings, issued.access_token)  # PyJWT imported here
    model = next(iter(MODELS.values()))
    cap = default_output_tokens(model)
    turn = await chat.start_turn(
        session,
        user_id=user.id,
        conversation_id=None,
        model=model.id,
        message="warm-up",
        context_window=model.context_window,
        max_output_tokens=cap,
    )
    await turn_quota.ensure_affordable(session, user.id, model, turn.input_tokens_estimate, 1, "ar")
    key = turn.workflow_id
    await subscriptions.ensure_current_period(session, user.id)  # the reserve's own period check
    await ledger.reserve(session, user_id=user.id, unit="tokens", amount=10, key=key, job_id=turn.turn_id)
    await chat.turn_history(session, turn.turn_id)
    await chat.store_reply(session, turn.turn_id, chat.ReplyRecord("warm-up", 1, 1, 2, False))
    settled = await ledger.settle(session, key=key, actual=2)
    if settled.owner is not None:
        await ledger.near_warning(session, *settled.owner)
