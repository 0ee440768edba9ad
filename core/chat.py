"""Chat: conversations, turns and messages. A turn is a ``jobs`` row (kind chat) with a user
message and, once the workflow stores it, an assistant message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from core import chat_sql as sql
from core import ledger
from core.catalog import estimate_input_tokens
from core.errors import AppError, Conflict, NotFound
from core.i18n import format_number, translate
from core.jobs import JobRepository
from core.models import ChatMessage, Conversation, Job, JobKind, JobStatus, MessageStatus
from core.models.base import new_id, utcnow

MIN_OUTPUT_TOKENS = 64  # below this a reply is not useful: refuse with quota_exceeded instead
TITLE_LENGTH = 60


class MessageTooLong(AppError):
    status_code = 422
    code = "message_too_long"
    message = "The message is too long for this model."


class EmptyMessage(AppError):
    status_code = 422
    code = "empty_message"
    message = "Write a message first."


class TurnNotFound(NotFound):
    code = "turn_not_found"
    message = "This reply was not found."


class TurnStillRunning(Conflict):
    code = "turn_running"
    message = "This reply is still being written. Wait for it or stop it first."


class TurnNotLatest(Conflict):
    code = "turn_not_latest"
    message = "Only the latest reply in a conversation can be regenerated."


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    message = "This conversation was not found."


class TurnQuotaExceeded(AppError):
    """Refused before anything is written: not enough tokens for even a short reply. When most
    of what is left is held by replies still being written, it says so and how much."""

    status_code = 402
    code = "quota_exceeded"
    message = "You have used up your tokens. Upgrade your plan or add tokens to continue."

    def __init__(self, *, held: int, locale: str | None = None) -> None:
        if held > 0:
            super().__init__(QUOTA_HELD_MESSAGE, held=format_number(held, locale))
        else:
            super().__init__()
        self.held = held


QUOTA_HELD_MESSAGE = (
    "Your remaining tokens are held by replies still being written ({held} tokens held). "
    "Wait for them to finish, or add tokens to continue."
)

TURN_ERROR_MESSAGES = {
    "quota_exceeded": "You have used up your tokens. Upgrade your plan or add tokens to continue.",
    "service_unavailable": "The service was briefly unavailable, so this reply could not be written. "
    "Please try again.",
    "moderation_blocked": "This message can't be sent because it goes against our content policy.",
    "model_unavailable": "This model is not available right now. Choose another model.",
    "provider_error": "The model could not answer right now. Please try again.",
}


def turn_error_message(code: str | None, locale: str | None) -> str:
    """Why a turn has no reply, in the caller's language (unknown codes read as provider_error)."""
    english = TURN_ERROR_MESSAGES.get(code or "", TURN_ERROR_MESSAGES["provider_error"])
    return translate(english, locale)


def chat_turn_workflow_id(turn_id: str) -> str:
    return f"chat-turn-{turn_id}"


def estimate_tokens(text: str) -> int:
    """One message's local, network-free estimate (the catalog's, plus per-message overhead)."""
    return estimate_input_tokens([text])


def trim_history(messages: list[tuple[str, str]], budget_tokens: int) -> list[tuple[str, str]]:
    """Keep the newest messages that fit the budget (the last one always stays)."""
    kept: list[tuple[str, str]] = []
    used = 0
    for role, content in reversed(messages):
        cost = estimate_tokens(content)
        if kept and used + cost > budget_tokens:
            break
        kept.append((role, content))
        used += cost
    return list(reversed(kept))


@dataclass
class NewTurn:
    turn_id: str
    conversation_id: str
    workflow_id: str
    input_tokens_estimate: int


async def start_turn(
    session: AsyncSession,
    *,
    user_id: str,
    conversation_id: str | None,
    model: str,
    message: str,
    context_window: int,
    max_output_tokens: int,
    turn_id: str | None = None,
) -> NewTurn:
    """Record the user's message and the turn's job; the workflow does the rest."""
    text = message.strip()
    if not text:
        raise EmptyMessage()
    if estimate_tokens(text) + max_output_tokens > context_window:
        raise MessageTooLong()
    now = utcnow()
    row = {"user_id": user_id, "model": model, "created_at": now, "updated_at": now}
    if conversation_id:
        touched = {"conversation_id": conversation_id, "owner": user_id, "model": model, "now": now}
        if cast(CursorResult[Any], await session.execute(sql.TOUCH_CONVERSATION, touched)).rowcount == 0:
            raise ConversationNotFound()
        history = [*await conversation_history(session, conversation_id), ("user", text)]
    else:
        conversation_id = new_id()
        await session.execute(sql.INSERT_CONVERSATION, {**row, "id": conversation_id, "title": ""})
        history = [("user", text)]  # a new conversation's history is this message: no query for it
    turn_id = turn_id or new_id()
    workflow_id = chat_turn_workflow_id(turn_id)
    # Running from the start: its workflow starts as soon as this commits.
    job = {
        "id": turn_id,
        "kind": JobKind.chat.value,
        "workflow_id": workflow_id,
        "status": JobStatus.running.value,
    }
    await session.execute(sql.INSERT_JOB, {**row, **job})
    asked = {
        "id": new_id(),
        "conversation_id": conversation_id,
        "turn_id": turn_id,
        "role": "user",
        "content": text,
    }
    await session.execute(sql.INSERT_MESSAGE, {**asked, "model": model, "created_at": now})
    budget = context_window - max_output_tokens
    estimate = sum(estimate_tokens(content) for _role, content in trim_history(history, budget))
    return NewTurn(turn_id, conversation_id, workflow_id, estimate)


def studio_amount(provider_tokens: int, weight: float) -> int:
    """Provider tokens in studio tokens, rounded up (the workflow's reserve uses the same)."""
    return max(1, -(-int(provider_tokens * weight * 1000) // 1000))


async def quota_message(session: AsyncSession, turn_id: str, locale: str | None) -> str | None:
    """Why a turn was refused when other turns hold tokens (None when nothing is held)."""
    job = await get_turn_job(session, turn_id)
    if job.user_id is None:
        return None
    held = (await ledger.usage(session, job.user_id)).units["tokens"].reserved
    return translate(QUOTA_HELD_MESSAGE, locale, held=format_number(held, locale)) if held else None


@dataclass
class RegenerateSource:
    conversation_id: str
    message: str
    model: str


async def replace_turn(session: AsyncSession, user_id: str, turn_id: str) -> RegenerateSource:
    """Take a finished turn out of its conversation so a new turn can answer its question again.

    Only the conversation's latest turn qualifies. Its messages stay (billed, kept) with
    ``replaced_by`` set once the new turn's id is known (``mark_replaced``); the row lock taken
    here makes a second, concurrent regenerate of the same turn wait and then fail."""
    job = await get_turn(session, user_id, turn_id)
    if job.status in (JobStatus.pending.value, JobStatus.running.value):
        raise TurnStillRunning()
    asked = (
        await session.execute(
            select(ChatMessage)
            .where(ChatMessage.turn_id == turn_id, ChatMessage.role == "user")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if asked is None:  # its conversation was deleted (the job stays as the billing record)
        raise TurnNotFound()
    if asked.replaced_by is not None:
        raise TurnNotLatest()
    newer = await session.scalar(
        select(func.count())
        .select_from(ChatMessage)
        .where(
            ChatMessage.conversation_id == asked.conversation_id,
            ChatMessage.role == "user",
            ChatMessage.created_at > asked.created_at,
            ChatMessage.replaced_by.is_(None),
        )
    )
    if newer:
        raise TurnNotLatest()
    return RegenerateSource(asked.conversation_id, asked.content, asked.model)


async def mark_replaced(session: AsyncSession, old_turn_id: str, new_turn_id: str) -> None:
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.turn_id == old_turn_id)
        .values(replaced_by=new_turn_id)
        .execution_options(synchronize_session=False)
    )


async def conversation_history(session: AsyncSession, conversation_id: str) -> list[tuple[str, str]]:
    """Completed exchanges plus pending user messages, oldest first (failed replies skipped)."""
    await session.flush()
    rows = await session.execute(
        select(ChatMessage.role, ChatMessage.content)
        .where(ChatMessage.conversation_id == conversation_id)
        .where(ChatMessage.status != MessageStatus.failed.value)
        .where(ChatMessage.content != "")
        .where(ChatMessage.replaced_by.is_(None))
        .order_by(ChatMessage.created_at, ChatMessage.role.desc())
    )
    return [(role, content) for role, content in rows.all()]


async def turn_history(session: AsyncSession, turn_id: str) -> list[tuple[str, str, str]]:
    """A turn's conversation up to and including its user message, untrimmed, oldest first:
    ``(role, content, turn id)`` (one query: the conversation's messages, cut at this turn's)."""
    history, _carrying = await turn_history_files(session, turn_id)
    return history


async def turn_history_files(
    session: AsyncSession, turn_id: str
) -> tuple[list[tuple[str, str, str]], frozenset[str]]:
    """``turn_history`` and, in the same query, the turns whose question carries files: a turn
    without any needs no attachments lookup (activities/attachments.py)."""
    rows = await session.execute(sql.TURN_HISTORY, {"turn_id": turn_id})
    history: list[tuple[str, str, str]] = []
    carrying: set[str] = set()
    mine: tuple[str, str, str] | None = None
    for role, content, message_turn, has_files in rows.all():
        if has_files:
            carrying.add(message_turn)
        if message_turn != turn_id:
            history.append((role, content, message_turn))
        elif role == "user":
            mine = (role, content, message_turn)
    if mine is None:
        raise TurnNotFound()
    history.append(mine)
    return history, frozenset(carrying)


async def failed_turn_code(session: AsyncSession, turn_id: str) -> str | None:
    """The code a turn already failed with, else None: the job sweeper (or the API, when its
    start of the workflow failed) ended it before its workflow ran, so it is not run late."""
    row = (await session.execute(sql.TURN_OUTCOME, {"turn_id": turn_id})).one_or_none()
    if row is None or row.status != JobStatus.failed.value:
        return None
    return str(row.error_code or "service_unavailable")


async def turn_messages(session: AsyncSession, turn_id: str, context_budget: int) -> list[tuple[str, str]]:
    """What is sent upstream for a turn (without its files): its history within the budget."""
    history = await turn_history(session, turn_id)
    return trim_history([(role, content) for role, content, _turn in history], context_budget)


@dataclass
class ReplyRecord:
    text: str
    input_tokens: int
    output_tokens: int
    studio_tokens: int
    stopped: bool


async def store_reply(
    session: AsyncSession, turn_id: str, reply: ReplyRecord, *, question: str | None = None
) -> None:
    """Write the assistant message and close the turn; a retry overwrites, never duplicates.
    ``question``: the turn's question when the caller has read it (the stream activity, with the
    history); the conversation is then titled in the same statement. On PostgreSQL one
    statement does it all (two when an untitled conversation's question was not given), so
    with ``question`` it may run outside a transaction (``Database.one_statement``)."""
    now = utcnow()
    status = MessageStatus.stopped if reply.stopped else MessageStatus.complete
    job_status = JobStatus.cancelled if reply.stopped else JobStatus.succeeded
    reply_fields = (reply.text, status.value, reply.input_tokens, reply.output_tokens, reply.studio_tokens)
    values = {
        "turn_id": turn_id,
        "message_id": new_id(),
        "now": now,
        **{f"reply_{name}": value for name, value in zip(sql.REPLY_FIELDS, reply_fields, strict=True)},
        "job_status": job_status.value,
        "cost_tokens": reply.studio_tokens,
    }
    if session.get_bind().dialect.name != "postgresql":
        return await _store_reply_steps(session, values)
    title = make_title(question) if question else ""
    stored = (await session.execute(sql.STORE_REPLY, {**values, "title": title})).one_or_none()
    if stored is None:  # no question row, so nothing was written (each write follows from it)
        raise TurnNotFound()
    conversation_id, asked, titled = stored
    if titled == "":  # still untitled, so no question was given: title it from the stored one
        retitled = {"conversation_id": conversation_id, "title": make_title(asked), "now": now}
        await session.execute(sql.TITLE_CONVERSATION, retitled)


async def _store_reply_steps(session: AsyncSession, values: dict[str, Any]) -> None:
    """``store_reply`` on SQLite (no data-modifying WITH): a read, then three writes."""
    turn_id, now = values["turn_id"], values["now"]
    asked = (await session.execute(sql.TURN_QUESTION, {"turn_id": turn_id})).one_or_none()
    if asked is None:
        raise TurnNotFound()
    conversation_id, model, question = asked
    row = {"id": values["message_id"], "conversation_id": conversation_id, "turn_id": turn_id}
    row.update({"role": "assistant", "model": model, "created_at": now})
    row.update({name: values[f"reply_{name}"] for name in sql.REPLY_FIELDS})
    await session.execute(sql.reply_upsert(session.get_bind().dialect.name), row)
    closed = {"job_status": values["job_status"], "cost_tokens": values["cost_tokens"], "now": now}
    await session.execute(sql.CLOSE_TURN_JOB, {"turn_id": turn_id, **closed})
    titled = {"conversation_id": conversation_id, "title": make_title(question), "now": now}
    await session.execute(sql.TITLE_CONVERSATION, titled)


async def stored_reply(session: AsyncSession, turn_id: str) -> ReplyRecord | None:
    """The assistant message a turn's stream activity stored, if it got that far."""
    row = (
        await session.execute(
            select(
                ChatMessage.content,
                ChatMessage.input_tokens,
                ChatMessage.output_tokens,
                ChatMessage.studio_tokens,
                ChatMessage.status,
            ).where(ChatMessage.turn_id == turn_id, ChatMessage.role == "assistant")
        )
    ).one_or_none()
    if row is None:
        return None
    text, input_tokens, output_tokens, charged, status = row
    return ReplyRecord(text, input_tokens, output_tokens, charged, status == MessageStatus.stopped.value)


async def fail_turn(session: AsyncSession, turn_id: str, code: str, message: str) -> None:
    """Close a turn that has no reply (a stored reply wins: it is settled, not failed; a first
    failure wins too: a late start of a turn the job sweeper failed keeps the sweeper's code).
    Its conversation gets its title all the same, so it never stays untitled."""
    job = await get_turn_job(session, turn_id)
    if job.status in (JobStatus.succeeded.value, JobStatus.cancelled.value, JobStatus.failed.value):
        return
    job.status = JobStatus.failed.value
    job.error_code, job.error_message = code, message[:2000]
    await session.flush()
    asked = (await session.execute(sql.TURN_QUESTION, {"turn_id": turn_id})).one_or_none()
    if asked is not None:
        conversation_id, _model, question = asked
        titled = {"conversation_id": conversation_id, "title": make_title(question), "now": utcnow()}
        await session.execute(sql.TITLE_CONVERSATION, titled)


_MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_MARKS = re.compile(r"^\s*(?:(?:#{1,6}|>|[-+*]|\d+[.)])\s+)+|\*\*|~~|[*`]", re.MULTILINE)
_TITLE_TRAILING = " \t,.;:!?،؛"


def make_title(first_message: str) -> str:
    """The first message as a one-line title: Markdown marks dropped (the title is plain text)
    and, when too long, cut after a whole word with an ellipsis."""
    plain = _MARKDOWN_MARKS.sub("", _MARKDOWN_LINK.sub(r"\1", first_message))
    line = " ".join(plain.split()) or " ".join(first_message.split())
    if len(line) <= TITLE_LENGTH:
        return line
    cut = line[: TITLE_LENGTH - 1]
    word_end = cut.rfind(" ")
    if word_end >= TITLE_LENGTH // 2:  # a very long word is cut where it must be
        cut = cut[:word_end]
    return cut.rstrip(_TITLE_TRAILING) + "…"


async def get_turn_job(session: AsyncSession, turn_id: str) -> Job:
    job = await JobRepository(session).get(turn_id)
    if job is None:
        raise TurnNotFound()
    return job


async def get_turn(session: AsyncSession, user_id: str, turn_id: str) -> Job:
    job = await JobRepository(session).get(turn_id, user_id=user_id)
    if job is None or job.kind != JobKind.chat.value:
        raise TurnNotFound()
    return job


# Conversations


async def get_conversation(session: AsyncSession, user_id: str, conversation_id: str) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != user_id:
        raise ConversationNotFound()
    return conversation


async def list_conversations(
    session: AsyncSession, user_id: str, *, limit: int = 50, before: datetime | None = None
) -> list[Conversation]:
    query = select(Conversation).where(Conversation.user_id == user_id)
    if before is not None:
        query = query.where(Conversation.updated_at < before)
    query = query.order_by(Conversation.updated_at.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


@dataclass
class MessageView:
    id: str
    turn_id: str
    role: str
    content: str
    model: str
    status: str
    studio_tokens: int
    created_at: datetime
    turn_status: str
    input_tokens: int
    output_tokens: int
    error_code: str | None


async def conversation_messages(session: AsyncSession, conversation_id: str) -> list[MessageView]:
    rows = await session.execute(
        select(ChatMessage, Job.status, Job.error_code)
        .join(Job, Job.id == ChatMessage.turn_id)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.replaced_by.is_(None))
        .order_by(ChatMessage.created_at, ChatMessage.role.desc())
    )
    return [
        MessageView(
            m.id,
            m.turn_id,
            m.role,
            m.content,
            m.model,
            m.status,
            m.studio_tokens,
            m.created_at,
            status,
            m.input_tokens,
            m.output_tokens,
            code,
        )
        for m, status, code in rows.all()
    ]


async def rename_conversation(
    session: AsyncSession, user_id: str, conversation_id: str, title: str
) -> Conversation:
    conversation = await get_conversation(session, user_id, conversation_id)
    conversation.title = title.strip()[:200]
    await session.flush()
    return conversation


async def delete_conversation(session: AsyncSession, user_id: str, conversation_id: str) -> None:
    """Messages go with it; the turns' job rows stay (they are the billing record)."""
    conversation = await get_conversation(session, user_id, conversation_id)
    await session.execute(delete(ChatMessage).where(ChatMessage.conversation_id == conversation.id))
    await session.delete(conversation)
    await session.flush()


async def count_turns(session: AsyncSession, conversation_id: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(ChatMessage)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.role == "user")
    )
    return int(result.scalar_one())
