"""Chat API: models, turns (start, events, cancel), the seed's /complete, conversations."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import StreamingResponse
from temporalio.service import RPCError

from api.auth.deps import CurrentUser
from api.chat import schemas
from api.chat.sse import relay
from api.chat.turns import edit_chat_turn, regenerate_chat_turn, start_chat_turn
from api.deps import LocaleDep, SessionDep, StateDep, TemporalDep
from core import chat, files
from core.catalog import MODELS, provider_enabled
from core.errors import AppError
from core.models import JobStatus, StoredFile

router = APIRouter(prefix="/v1/chat", tags=["chat"])
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.get("/models", response_model=list[schemas.ModelOut])
async def list_models(state: StateDep, locale: LocaleDep) -> list[schemas.ModelOut]:
    return [
        schemas.ModelOut(
            id=m.id,
            provider=m.provider,
            name=m.display_name_ar if locale == "ar" else m.display_name_en,
            name_ar=m.display_name_ar,
            name_en=m.display_name_en,
            context_window=m.context_window,
            max_output_tokens=m.max_output_tokens,
            token_weight=m.token_weight,
            capabilities=sorted(m.capabilities),
            available=provider_enabled(m.provider, state.settings) and not m.retired(),
            retires_on=m.retires_on,
        )
        for m in MODELS.values()
    ]


@router.post("/turns", status_code=202, response_model=schemas.TurnOut)
async def create_turn(
    body: schemas.TurnIn,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> schemas.TurnOut:
    turn = await start_chat_turn(state, session, client, user, body, locale)
    return schemas.TurnOut(
        turn_id=turn.turn_id,
        conversation_id=turn.conversation_id,
        events_url=f"/v1/chat/turns/{turn.turn_id}/events",
    )


@router.post("/turns/{turn_id}/regenerate", status_code=202, response_model=schemas.TurnOut)
async def regenerate_turn(
    turn_id: str,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    locale: LocaleDep,
    body: schemas.RegenerateIn | None = None,
) -> schemas.TurnOut:
    """Answer the conversation's latest question again (same or another model); the new turn
    replaces the old exchange in the conversation."""
    turn = await regenerate_chat_turn(
        state, session, client, user, turn_id, body or schemas.RegenerateIn(), locale
    )
    return schemas.TurnOut(
        turn_id=turn.turn_id,
        conversation_id=turn.conversation_id,
        events_url=f"/v1/chat/turns/{turn.turn_id}/events",
    )


@router.post("/turns/{turn_id}/edit", status_code=202, response_model=schemas.TurnOut)
async def edit_turn(
    turn_id: str,
    body: schemas.EditIn,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> schemas.TurnOut:
    """Edit a sent question: the conversation continues from the edited question (it and every
    later exchange are replaced; they stay billed). 409 while a reply is being written."""
    turn = await edit_chat_turn(state, session, client, user, turn_id, body, locale)
    return schemas.TurnOut(
        turn_id=turn.turn_id,
        conversation_id=turn.conversation_id,
        events_url=f"/v1/chat/turns/{turn.turn_id}/events",
    )


@router.get("/turns/{turn_id}/events")
async def turn_events(
    turn_id: str,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    last_event_id: str | None = Header(default=None),
    after: str | None = Query(default=None, description="resume after this event id"),
) -> StreamingResponse:
    await chat.get_turn(session, user.id, turn_id)
    stream = relay(state.bus, state.db, turn_id, last_event_id or after)
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/turns/{turn_id}/cancel", status_code=202)
async def cancel_turn(
    turn_id: str, user: CurrentUser, session: SessionDep, state: StateDep, client: TemporalDep
) -> dict[str, str]:
    """Stop: the streaming activity hears it over the bus at once, closes the upstream stream
    and the partial reply is billed; cancelling the workflow is the durable path (it reaches an
    activity that missed the bus message on its next heartbeat)."""
    job = await chat.get_turn(session, user.id, turn_id)
    if job.status in (JobStatus.pending.value, JobStatus.running.value):
        await state.bus.request_stop(turn_id)
        try:
            await client.get_workflow_handle(job.workflow_id).cancel()
        except RPCError:
            pass  # already finished
    return {"turn_id": turn_id, "status": "cancelling"}


class TurnFailed(AppError):
    """A turn that ended with an error, answered with its code; the stored message is already
    in the caller's language."""

    status_code = 502
    code = "provider_error"
    message = "The model could not answer right now. Please try again."
    STATUS_BY_CODE = {"quota_exceeded": 402, "moderation_blocked": 422, "model_unavailable": 422}

    def __init__(self, code: str | None, message: str | None) -> None:
        super().__init__(message or None)
        self.code = code or TurnFailed.code
        self.status_code = self.STATUS_BY_CODE.get(self.code, TurnFailed.status_code)


@router.post("/complete", response_model=schemas.CompleteOut)
async def complete(
    body: schemas.CompleteIn,
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> Response | schemas.CompleteOut:
    """The seed's route: SSE of a new turn with ``stream: true``, else the finished message."""
    turn = await start_chat_turn(state, session, client, user, body, locale)
    if body.stream:
        headers = {**SSE_HEADERS, "X-Turn-Id": turn.turn_id, "X-Conversation-Id": turn.conversation_id}
        return StreamingResponse(
            relay(state.bus, state.db, turn.turn_id, None), media_type="text/event-stream", headers=headers
        )
    user_id = user.id
    await client.get_workflow_handle(turn.workflow_id).result()
    session.expire_all()  # the workflow wrote the reply meanwhile
    job = await chat.get_turn(session, user_id, turn.turn_id)
    if job.status == JobStatus.failed.value:
        raise TurnFailed(job.error_code, job.error_message)
    messages = await chat.conversation_messages(session, turn.conversation_id)
    reply = next(m for m in messages if m.turn_id == turn.turn_id and m.role == "assistant")
    return schemas.CompleteOut(
        turn_id=turn.turn_id,
        conversation_id=turn.conversation_id,
        model=reply.model,
        content=reply.content,
        stopped=reply.status == "stopped",
        usage=schemas.UsageOut(
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            studio_tokens=reply.studio_tokens,
        ),
    )


@router.get("/conversations", response_model=list[schemas.ConversationOut])
async def list_conversations(
    user: CurrentUser, session: SessionDep, limit: int = Query(50, ge=1, le=200)
) -> list[schemas.ConversationOut]:
    rows = await chat.list_conversations(session, user.id, limit=limit)
    return [schemas.ConversationOut.model_validate(c, from_attributes=True) for c in rows]


@router.get("/conversations/{conversation_id}", response_model=schemas.ConversationDetail)
async def get_conversation(
    conversation_id: str, user: CurrentUser, session: SessionDep, locale: LocaleDep
) -> schemas.ConversationDetail:
    conversation = await chat.get_conversation(session, user.id, conversation_id)
    messages = await chat.conversation_messages(session, conversation.id)
    attached = await files.files_of_jobs(session, [m.turn_id for m in messages if m.role == "user"])
    running = next(
        (
            m.turn_id
            for m in reversed(messages)
            if m.role == "user" and m.turn_status in (JobStatus.pending.value, JobStatus.running.value)
        ),
        None,
    )
    return schemas.ConversationDetail(
        id=conversation.id,
        title=conversation.title,
        model=conversation.model,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        messages=[
            message_out(m, locale, attached.get(m.turn_id, []) if m.role == "user" else []) for m in messages
        ],
        running_turn_id=running,
    )


def message_out(
    message: chat.MessageView, locale: str, attached: list[StoredFile] | None = None
) -> schemas.MessageOut:
    out = schemas.MessageOut.model_validate(message, from_attributes=True)
    if message.error_code and message.turn_status == JobStatus.failed.value:
        out.error_message = chat.turn_error_message(message.error_code, locale)
    out.files = [
        schemas.MessageFileOut(
            id=row.id,
            name=row.name,
            content_type=row.content_type,
            size=row.size,
            content_url=f"/v1/files/{row.id}/content",
        )
        for row in attached or []
    ]
    return out


@router.patch("/conversations/{conversation_id}", response_model=schemas.ConversationOut)
async def rename_conversation(
    conversation_id: str, body: schemas.RenameIn, user: CurrentUser, session: SessionDep
) -> schemas.ConversationOut:
    conversation = await chat.rename_conversation(session, user.id, conversation_id, body.title)
    return schemas.ConversationOut.model_validate(conversation, from_attributes=True)


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete_conversation(conversation_id: str, user: CurrentUser, session: SessionDep) -> Response:
    await chat.delete_conversation(session, user.id, conversation_id)
    return Response(status_code=204)
