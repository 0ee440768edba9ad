"""Starting a chat turn: record it, commit, then start its workflow (eagerly, in-process)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.chat.schemas import EditIn, RegenerateIn, TurnIn
from api.chat.sse import open_relays
from api.deps import AppState
from api.files.attach import turn_files
from core import chat, chat_edit, files, turn_quota
from core.catalog import ModelInfo, default_output_tokens, offered_model
from core.models import User
from core.models.base import new_id
from core.settings import Settings
from workflows import (
    INTERACTIVE,
    PULSE_JOB_KIND,
    PULSE_JOB_STATUS,
    PULSE_MODEL,
    PULSE_PROVIDER,
    PULSE_USER_ID,
    STREAMS,
)
from workflows.chat_turn import ChatTurnInput, ChatTurnWorkflow

# A quiet API process streams a turn's reply itself (eager activity: the lowest latency). Once
# it relays this many chat streams, replies go to the dedicated workers' STREAMS queue, so its
# one core serves HTTP and workflow tasks (measured at 50 concurrent streams: ~30 % more turns/s
# and half the p95 latency, for one ~50 ms queue hop that is lost in the wait anyway).
STREAM_ITSELF_BELOW = 4


def stream_queue(settings: Settings) -> str | None:
    """Where this turn's reply is streamed: None (here, eagerly) or the dedicated workers' queue.
    Without Redis there are no dedicated chat workers (the bus is in memory): always here."""
    busy = open_relays() >= STREAM_ITSELF_BELOW or not settings.chat_streams_in_api
    if settings.redis_url and busy:
        return settings.task_queue(STREAMS)
    return None


def output_cap(model: ModelInfo, requested: int | None) -> int:
    return min(requested or default_output_tokens(model), model.max_output_tokens)


async def start_chat_turn(
    state: AppState,
    session: AsyncSession,
    client: Client,
    user: User,
    body: TurnIn,
    locale: str,
) -> chat.NewTurn:
    model = offered_model(body.model, state.settings)
    cap = output_cap(model, body.max_tokens)
    attached = await turn_files(session, user.id, model, body.file_ids) if body.file_ids else []
    turn = await chat.start_turn(
        session,
        user_id=user.id,
        conversation_id=body.conversation_id,
        model=model.id,
        message=body.message,
        context_window=model.context_window,
        max_output_tokens=cap,
    )
    if attached:
        await files.attach_to_job(session, turn.turn_id, attached)
    await launch(state, session, client, user, model, cap, turn, locale, default_cap=body.max_tokens is None)
    return turn


async def regenerate_chat_turn(
    state: AppState,
    session: AsyncSession,
    client: Client,
    user: User,
    turn_id: str,
    body: RegenerateIn,
    locale: str,
) -> chat.NewTurn:
    """Answer a finished turn's question again as a new turn that replaces it in the
    conversation (the question is not stored twice; the old reply stays billed)."""
    source = await chat.replace_turn(session, user.id, turn_id)
    new_turn_id = new_id()
    await chat.mark_replaced(session, turn_id, new_turn_id)  # before the new turn's history read
    return await replacement_turn(
        state, session, client, user, turn_id, new_turn_id, source.conversation_id, source.message,
        body.model or source.model, body.max_tokens, locale,
    )  # fmt: skip


async def edit_chat_turn(
    state: AppState,
    session: AsyncSession,
    client: Client,
    user: User,
    turn_id: str,
    body: EditIn,
    locale: str,
) -> chat.NewTurn:
    """Ask an edited question in place of a sent one: it and every later turn leave the
    conversation (kept, billed) and the new question is answered from what came before it
    (core/chat_edit.py). The edited question keeps its attachments."""
    source = await chat_edit.edit_source(session, user.id, turn_id)
    new_turn_id = new_id()
    await chat_edit.replace_from(session, source, new_turn_id)  # before the new turn's history read
    return await replacement_turn(
        state, session, client, user, turn_id, new_turn_id, source.conversation_id, body.message,
        body.model or source.model, body.max_tokens, locale,
    )  # fmt: skip


async def replacement_turn(
    state: AppState,
    session: AsyncSession,
    client: Client,
    user: User,
    old_turn_id: str,
    new_turn_id: str,
    conversation_id: str,
    message: str,
    model_id: str,
    max_tokens: int | None,
    locale: str,
) -> chat.NewTurn:
    """The turn that takes a replaced one's place (regenerate, edit): its files, then launched."""
    model = offered_model(model_id, state.settings)
    cap = output_cap(model, max_tokens)
    turn = await chat.start_turn(
        session,
        user_id=user.id,
        conversation_id=conversation_id,
        model=model.id,
        message=message,
        context_window=model.context_window,
        max_output_tokens=cap,
        turn_id=new_turn_id,
    )
    await files.copy_job_files(session, old_turn_id, new_turn_id)
    await launch(state, session, client, user, model, cap, turn, locale, default_cap=max_tokens is None)
    return turn


async def launch(
    state: AppState,
    session: AsyncSession,
    client: Client,
    user: User,
    model: ModelInfo,
    cap: int,
    turn: chat.NewTurn,
    locale: str,
    *,
    stateless: bool = False,
    default_cap: bool = False,  # no max_tokens asked: the cap may shrink to a fair share
) -> None:
    """Commit the turn's rows, then start its workflow (eagerly, in this process).
    ``stateless``: an OpenAI-API turn (no conversation; its request is in ``api_turns``)."""
    settings = state.settings
    min_output = min(chat.MIN_OUTPUT_TOKENS, cap)
    try:
        have = await turn_quota.ensure_affordable(
            session, user.id, model, turn.input_tokens_estimate, min_output, locale
        )
    except (turn_quota.MessageNeedsMoreTokens, chat.TurnQuotaExceeded):
        await session.rollback()  # nothing of the refused turn is kept
        raise
    if default_cap:
        cap = turn_quota.fair_output_cap(model, cap, have, turn.input_tokens_estimate)
    # The request's own session (one connection per request): commit before the workflow
    # starts, since its activities read the turn from the database.
    await session.commit()
    data = ChatTurnInput(
        turn_id=turn.turn_id,
        user_id=user.id,
        model=model.id,
        provider=model.provider,
        max_output_tokens=cap,
        input_tokens_estimate=turn.input_tokens_estimate,
        token_weight=model.token_weight,
        min_output_tokens=min_output,
        moderate=settings.moderation_enabled,
        locale=locale,
        stream_queue=stream_queue(settings),
        bookkeeping_retry_cap_s=settings.chat_bookkeeping_retry_cap_seconds,
        heartbeat_timeout_s=settings.chat_heartbeat_timeout_seconds,
        outage_budget_s=settings.chat_outage_budget_seconds,
        stateless=stateless,
    )
    try:
        await client.start_workflow(
            ChatTurnWorkflow.run,
            data,
            id=turn.workflow_id,
            task_queue=settings.task_queue(INTERACTIVE),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, user.id),
                    SearchAttributePair(PULSE_JOB_KIND, "chat"),
                    SearchAttributePair(PULSE_PROVIDER, model.provider),
                    SearchAttributePair(PULSE_MODEL, model.id),
                    SearchAttributePair(PULSE_JOB_STATUS, "running"),
                ]
            ),
            static_summary=f"chat turn · {model.id}",
            request_eager_start=True,
        )
    except Exception:
        # Temporal unreachable: the turn ends at once (the client gets 503 + Retry-After; the
        # job sweeper repairs a row left behind when even this write fails).
        message = chat.turn_error_message("service_unavailable", locale)
        await chat.fail_turn(session, turn.turn_id, "service_unavailable", message)
        await session.commit()
        raise
