"""Chat's statements, built once at import (each turn runs them): Core statements on the
tables with bound parameters, so SQLAlchemy skips the ORM layer and reuses their compiled
SQL and cache keys. Measured: storing a reply went from 2.6 to 1.3 ms of CPU, the history
read from 1.1 to ~0.6 ms (then to one statement each, docs/chat.md "Issue 23, second pass")."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from core.models import ChatMessage, Conversation, Job, JobFile, MessageStatus

_messages = cast(Table, ChatMessage.__table__)
_jobs = cast(Table, Job.__table__)
_conversations = cast(Table, Conversation.__table__)
_job_files = cast(Table, JobFile.__table__)
REPLY_FIELDS = ("content", "status", "input_tokens", "output_tokens", "studio_tokens")


def _build_turn_history() -> Select[Any]:
    this_turn = (
        select(_messages.c.conversation_id, _messages.c.created_at)
        .where(_messages.c.turn_id == bindparam("turn_id"), _messages.c.role == "user")
        .subquery()
    )
    carries_files = exists().where(_job_files.c.job_id == _messages.c.turn_id)
    return (
        select(
            _messages.c.role,
            _messages.c.content,
            _messages.c.turn_id,
            and_(_messages.c.role == "user", carries_files).label("has_files"),
        )
        .join(this_turn, this_turn.c.conversation_id == _messages.c.conversation_id)
        .where(_messages.c.created_at <= this_turn.c.created_at)
        .where(_messages.c.status != MessageStatus.failed.value)
        .where(_messages.c.replaced_by.is_(None))
        .where((_messages.c.content != "") | (_messages.c.turn_id == bindparam("turn_id")))
        .order_by(_messages.c.created_at, _messages.c.role.desc())
    )


TURN_HISTORY = _build_turn_history()
# a turn's outcome before its reply is asked for (a row failed before its workflow ran)
TURN_OUTCOME = select(_jobs.c.status, _jobs.c.error_code).where(_jobs.c.id == bindparam("turn_id"))
TURN_QUESTION = select(_messages.c.conversation_id, _messages.c.model, _messages.c.content).where(
    _messages.c.turn_id == bindparam("turn_id"), _messages.c.role == "user"
)
CLOSE_TURN_JOB = (
    update(_jobs)
    .where(_jobs.c.id == bindparam("turn_id"))
    .values(status=bindparam("job_status"), cost_tokens=bindparam("cost_tokens"), updated_at=bindparam("now"))
)
TITLE_CONVERSATION = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("conversation_id"))
    .values(
        title=case((_conversations.c.title == "", bindparam("title")), else_=_conversations.c.title),
        updated_at=bindparam("now"),
    )
)
TOUCH_CONVERSATION = (
    update(_conversations)
    .where(
        _conversations.c.id == bindparam("conversation_id"), _conversations.c.user_id == bindparam("owner")
    )
    .values(model=bindparam("model"), updated_at=bindparam("now"))
)
INSERT_CONVERSATION = insert(_conversations)
INSERT_JOB = insert(_jobs)
INSERT_MESSAGE = insert(_messages)
_REPLY_UPSERTS: dict[str, Insert] = {}


def _build_store_reply() -> Select[Any]:
    """PostgreSQL's ``store_reply`` in one statement (data-modifying WITH): the turn's question
    read, the reply upserted, the job closed and the conversation touched (titled with
    ``:title`` while untitled); it answers the conversation, the question and the title now
    set (NULL without a conversation row), or no row when the turn has no question (then
    nothing is written)."""

    def param(name: str, column: str, table: Table = _messages) -> Any:
        return bindparam(name, type_=table.c[column].type)

    asked = (
        select(_messages.c.conversation_id, _messages.c.model, _messages.c.content)
        .where(_messages.c.turn_id == param("turn_id", "turn_id"), _messages.c.role == "user")
        .cte("asked")
    )
    # (parameters named apart from the tables' columns: an UPDATE would take a same-named one
    # as a value to SET)
    reply = select(
        param("message_id", "id"),
        asked.c.conversation_id,
        param("turn_id", "turn_id"),
        literal("assistant", _messages.c.role.type),
        asked.c.model,
        param("now", "created_at"),
        *(param(f"reply_{name}", name) for name in REPLY_FIELDS),
    )
    insert = postgresql.insert(_messages).from_select(
        ["id", "conversation_id", "turn_id", "role", "model", "created_at", *REPLY_FIELDS],
        reply,
        include_defaults=False,
    )
    changes = {name: insert.excluded[name] for name in REPLY_FIELDS}
    stored = (
        insert.on_conflict_do_update(index_elements=["turn_id", "role"], set_=changes)
        .returning(_messages.c.conversation_id, _messages.c.turn_id)
        .cte("stored")
    )
    # Each write joins the one before it, so the rows are locked in the order they always were
    # (the message, the job, the conversation) and a concurrent delete can't deadlock with it.
    closed = (
        update(_jobs)
        .where(_jobs.c.id == stored.c.turn_id)
        .values(
            status=param("job_status", "status", _jobs),
            cost_tokens=param("cost_tokens", "cost_tokens", _jobs),
            updated_at=param("now", "updated_at", _jobs),
        )
        .returning(stored.c.conversation_id)
        .cte("closed")
    )
    untitled = _conversations.c.title == ""
    touched = (
        update(_conversations)
        .where(_conversations.c.id == closed.c.conversation_id)
        .values(
            title=case((untitled, param("title", "title", _conversations)), else_=_conversations.c.title),
            updated_at=param("now", "updated_at", _conversations),
        )
        .returning(_conversations.c.title)
        .cte("touched")
    )
    return select(asked.c.conversation_id, asked.c.content, touched.c.title).select_from(
        asked.outerjoin(touched, true())
    )


STORE_REPLY = _build_store_reply()


def reply_upsert(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (turn_id, role) DO UPDATE the reply's fields (PostgreSQL, SQLite)."""
    if dialect not in _REPLY_UPSERTS:
        insert = postgresql.insert(_messages) if dialect == "postgresql" else sqlite.insert(_messages)
        changes = {name: insert.excluded[name] for name in REPLY_FIELDS}
        upsert = insert.on_conflict_do_update(index_elements=["turn_id", "role"], set_=changes)
        _REPLY_UPSERTS[dialect] = upsert
    return _REPLY_UPSERTS[dialect]
