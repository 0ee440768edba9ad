"""A chat turn's rows on SQLite (the embedded dev database): the same prebuilt statements as on
PostgreSQL, including the reply upsert, which is built per dialect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from core import chat
from core.db import Database
from core.migrate import upgrade_async
from core.models import ChatMessage, Job, JobStatus
from tests.ledger.conftest import create_user


@pytest_asyncio.fixture
async def lite(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    await upgrade_async(url)
    database = Database(url)
    yield database
    await database.dispose()


async def _turn(db: Database, user_id: str, message: str, conversation_id: str | None = None) -> chat.NewTurn:
    async with db.session() as session:
        return await chat.start_turn(
            session,
            user_id=user_id,
            conversation_id=conversation_id,
            model="gpt-5-mini",
            message=message,
            context_window=100_000,
            max_output_tokens=100,
        )


async def test_a_conversation_on_sqlite(lite: Database) -> None:
    user_id = await create_user(lite)
    first = await _turn(lite, user_id, "  مرحبا، من أنت؟  ")
    for attempt in ("نسخة أولى", "أنا مساعد."):  # a retried store overwrites, never duplicates
        async with lite.session() as session:
            await chat.store_reply(session, first.turn_id, chat.ReplyRecord(attempt, 12, 4, 9, stopped=False))
    second = await _turn(lite, user_id, "وماذا تفعل؟", first.conversation_id)
    assert second.input_tokens_estimate > first.input_tokens_estimate  # the history counts

    async with lite.reader() as session:
        sent = await chat.turn_messages(session, second.turn_id, 10_000)
        stored = await chat.stored_reply(session, first.turn_id)
        conversation = await chat.get_conversation(session, user_id, first.conversation_id)
        job = await session.get(Job, first.turn_id)
    assert sent == [("user", "مرحبا، من أنت؟"), ("assistant", "أنا مساعد."), ("user", "وماذا تفعل؟")]
    assert stored == chat.ReplyRecord("أنا مساعد.", 12, 4, 9, stopped=False)
    assert conversation.title == "مرحبا، من أنت؟"
    assert job is not None and (job.status, job.cost_tokens) == (JobStatus.succeeded.value, 9)


async def test_another_users_conversation_is_not_found_and_nothing_is_written(lite: Database) -> None:
    owner, other = await create_user(lite), await create_user(lite)
    turn = await _turn(lite, owner, "سؤال")
    with pytest.raises(chat.ConversationNotFound):
        await _turn(lite, other, "سؤال آخر", turn.conversation_id)
    async with lite.reader() as session:
        messages = await session.scalar(select(func.count()).select_from(ChatMessage))
        other_jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.user_id == other))
    assert (messages, other_jobs) == (1, 0)
