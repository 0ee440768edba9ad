"""A reply's store on PostgreSQL in one statement, and the history read that says which turns
carry files (so a turn without any makes no attachments lookup): the statements counted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Connection, delete, event, func, select

from activities.attachments import Attachments
from core import chat, files
from core.db import Database
from core.models import ChatMessage, Conversation, FilePurpose, Job, JobStatus, StoredFile
from providers.storage import ASSETS
from providers.storage.local import LocalStorage
from tests.ledger.conftest import create_user

QUESTION = "## خطة **سفر** إلى البتراء"


@pytest_asyncio.fixture
async def pg(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url)
    yield database
    await database.dispose()


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """The statements sent meanwhile, BEGIN and COMMIT included (asyncpg sends neither for an
    autocommit connection)."""
    sent: list[str] = []

    def statement(_conn: Connection, _cursor: object, sql: str, *_args: object) -> None:
        sent.append(sql)

    def marker(name: str) -> Callable[[Connection], None]:
        def mark(conn: Connection) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                sent.append(name)

        return mark

    engine = db.engine.sync_engine
    listeners = [
        ("before_cursor_execute", statement),
        ("begin", marker("BEGIN")),
        ("commit", marker("COMMIT")),
    ]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield sent
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


async def _turn(
    db: Database, user_id: str, message: str = QUESTION, conversation_id: str | None = None
) -> str:
    async with db.session() as session:
        turn = await chat.start_turn(
            session,
            user_id=user_id,
            conversation_id=conversation_id,
            model="gpt-5-mini",
            message=message,
            context_window=100_000,
            max_output_tokens=100,
        )
    return turn.turn_id


async def _conversation_of(db: Database, turn_id: str) -> str | None:
    async with db.reader() as session:
        query = select(ChatMessage.conversation_id).where(ChatMessage.turn_id == turn_id)
        return (await session.execute(query)).scalars().first()


async def _rows(db: Database, turn_id: str) -> tuple[list[tuple[str, str, int]], tuple[str, int], str]:
    async with db.reader() as session:
        replies = (
            await session.execute(
                select(ChatMessage.content, ChatMessage.status, ChatMessage.studio_tokens).where(
                    ChatMessage.turn_id == turn_id, ChatMessage.role == "assistant"
                )
            )
        ).all()
        job = await session.get(Job, turn_id)
        assert job is not None
        title = await session.scalar(
            select(Conversation.title)
            .join(ChatMessage, ChatMessage.conversation_id == Conversation.id)
            .where(ChatMessage.turn_id == turn_id, ChatMessage.role == "user")
        )
    return [tuple(row) for row in replies], (job.status, job.cost_tokens), title or ""  # type: ignore[misc]


async def test_a_reply_is_stored_in_one_statement_and_a_retry_overwrites_it(pg: Database) -> None:
    turn = await _turn(pg, await create_user(pg))
    with counted(pg) as sent:
        async with pg.one_statement() as session:
            await chat.store_reply(
                session, turn, chat.ReplyRecord("نسخة أولى", 10, 4, 9, False), question=QUESTION
            )
    assert len(sent) == 1, sent  # no read, no BEGIN/COMMIT
    assert await _rows(pg, turn) == ([("نسخة أولى", "complete", 9)], ("succeeded", 9), "خطة سفر إلى البتراء")

    # a retried attempt, stopped this time: the same row overwritten, the job cancelled
    async with pg.one_statement() as session:
        await chat.store_reply(session, turn, chat.ReplyRecord("جزء", 10, 1, 6, True), question=QUESTION)
    assert await _rows(pg, turn) == (
        [("جزء", "stopped", 6)],
        (JobStatus.cancelled.value, 6),
        "خطة سفر إلى البتراء",
    )


async def test_without_the_question_an_untitled_conversation_is_titled_all_the_same(pg: Database) -> None:
    user_id = await create_user(pg)
    first = await _turn(pg, user_id)
    with counted(pg) as sent:
        async with pg.session() as session:  # finish_stopped, fail: no history read
            await chat.store_reply(session, first, chat.ReplyRecord("", 0, 0, 0, stopped=True))
    assert len(sent) == 4, sent  # BEGIN, the store, the title, COMMIT
    assert await _rows(pg, first) == ([("", "stopped", 0)], ("cancelled", 0), "خطة سفر إلى البتراء")

    conversation_id = await _conversation_of(pg, first)
    later = await _turn(pg, user_id, "وماذا بعد؟", conversation_id)
    with counted(pg) as sent:
        async with pg.session() as session:
            await chat.store_reply(session, later, chat.ReplyRecord("ثم", 5, 1, 3, False))
    assert len(sent) == 3, sent  # already titled: BEGIN, the store, COMMIT
    assert await _rows(pg, later) == ([("ثم", "complete", 3)], ("succeeded", 3), "خطة سفر إلى البتراء")


async def test_a_turn_without_its_question_is_not_found_and_nothing_is_written(pg: Database) -> None:
    turn = await _turn(pg, await create_user(pg))
    async with pg.session() as session:  # its conversation deleted meanwhile (the job stays)
        await session.execute(delete(ChatMessage).where(ChatMessage.turn_id == turn))
    with pytest.raises(chat.TurnNotFound):
        async with pg.one_statement() as session:  # outside a transaction: nothing to roll back
            await chat.store_reply(session, turn, chat.ReplyRecord("x", 1, 1, 2, False), question=QUESTION)
    async with pg.reader() as session:
        job = await session.get(Job, turn)
        messages = await session.scalar(select(func.count()).where(ChatMessage.turn_id == turn))
    assert job is not None and (job.status, job.cost_tokens, messages) == (JobStatus.running.value, 0, 0)


async def test_the_history_says_which_turns_carry_files(pg: Database, tmp_path: Path) -> None:
    user_id = await create_user(pg)
    plain = await _turn(pg, user_id, "بدون ملفات")
    store = LocalStorage(tmp_path, "s" * 40)
    attachments = Attachments(pg, store)
    async with pg.reader() as session:
        history, carrying = await chat.turn_history_files(session, plain)
    assert carrying == frozenset()
    with counted(pg) as sent:
        sent_plain = await attachments.prepare(history, 10_000, vision=True, carrying=carrying)
    assert sent == [] and [m.content for m in sent_plain] == ["بدون ملفات"]  # no lookup at all

    conversation_id = await _conversation_of(pg, plain)
    with_file = await _turn(pg, user_id, "لخّص الملف", conversation_id)
    await store.put(ASSETS, f"u/{user_id}/notes.txt", b"twelve percent", "text/plain")
    async with pg.session() as session:
        row = StoredFile(
            user_id=user_id,
            purpose=FilePurpose.chat.value,
            name="notes.txt",
            content_type="text/plain",
            size=14,
            status="ready",
            bucket=ASSETS,
            key=f"u/{user_id}/notes.txt",
        )
        session.add(row)
        await session.flush()
        await files.attach_to_job(session, with_file, [row])
    async with pg.reader() as session:
        history, carrying = await chat.turn_history_files(session, with_file)
    assert carrying == {with_file} and [turn for _r, _c, turn in history] == [plain, with_file]
    prepared = await attachments.prepare(history, 10_000, vision=True, carrying=carrying)
    assert "twelve percent" in prepared[-1].content and prepared[0].content == "بدون ملفات"
    assert prepared == await attachments.prepare(history, 10_000, vision=True)  # as without the hint
