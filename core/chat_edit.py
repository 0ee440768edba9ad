"""Editing a sent question: the conversation continues from the edited question.

What people expect from ChatGPT, Claude and Gemini: editing a past question drops everything
after it from the conversation and answers the new text. Here the edited turn and every later
turn get ``replaced_by`` = the new turn (kept and billed, no longer shown or sent upstream, as a
regenerated turn's messages are), then the new question is a normal turn whose history is what
came before the edited one. Refused while a reply in the conversation is still being written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat import TurnNotFound, TurnStillRunning, get_turn
from core.errors import Conflict
from core.models import ChatMessage, Job, JobStatus


class TurnReplaced(Conflict):
    code = "turn_replaced"
    message = "This question was already edited or regenerated. Reload the conversation."


@dataclass
class EditSource:
    conversation_id: str
    model: str
    created_at: datetime
    turn_ids: list[str]  # the edited turn and every later one shown in the conversation


async def edit_source(session: AsyncSession, user_id: str, turn_id: str) -> EditSource:
    """The turns an edit of ``turn_id`` replaces. Locks the conversation's shown questions
    (the lock a regenerate takes on the latest one), so edits and regenerates queue."""
    await get_turn(session, user_id, turn_id)
    asked = await session.scalar(
        select(ChatMessage).where(ChatMessage.turn_id == turn_id, ChatMessage.role == "user")
    )
    if asked is None:  # its conversation was deleted
        raise TurnNotFound()
    shown = (
        await session.execute(
            select(ChatMessage.turn_id, ChatMessage.created_at)
            .where(
                ChatMessage.conversation_id == asked.conversation_id,
                ChatMessage.role == "user",
                ChatMessage.replaced_by.is_(None),
            )
            .order_by(ChatMessage.created_at)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    if turn_id not in {turn for turn, _created in shown}:
        raise TurnReplaced()
    running = await session.scalar(
        select(func.count())
        .select_from(Job)
        .where(
            Job.id.in_([turn for turn, _created in shown]),
            Job.status.in_((JobStatus.pending.value, JobStatus.running.value)),
        )
    )
    if running:
        raise TurnStillRunning()
    later = [turn for turn, created in shown if created >= asked.created_at]
    return EditSource(asked.conversation_id, asked.model, asked.created_at, later)


async def replace_from(session: AsyncSession, source: EditSource, new_turn_id: str) -> None:
    """Take the edited turn and everything after it out of the conversation."""
    await session.execute(
        update(ChatMessage)
        .where(ChatMessage.turn_id.in_(source.turn_ids), ChatMessage.replaced_by.is_(None))
        .values(replaced_by=new_turn_id)
        .execution_options(synchronize_session=False)
    )
