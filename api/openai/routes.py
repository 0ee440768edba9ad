"""OpenAI's wire format at ``/openai/v1``: ``GET /models``, ``POST /chat/completions`` (images:
``api/openai/images.py``).

Each completion is a ``ChatTurnWorkflow`` (a ``chat`` job without a stored conversation):
reserve on the owner's plan → stream → settle, exactly as a studio turn. The answer is read
from the turn's stream-bus events, so a streamed and a whole answer are the same turn."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from temporalio.client import Client

from api.chat.turns import launch
from api.deps import AppState, SessionDep, StateDep, TemporalDep
from api.openai.errors import OpenAIError, invalid, model_not_allowed, model_not_found
from api.openai.keys import Caller, CallerDep, KeyLimits, KeyLimitsDep
from api.openai.schemas import CompletionRequest, parse_completion
from api.openai.stream import Answer, TurnEvents, collect, sse, stopper, turn_error
from core import apiturns, chat
from core.catalog import (
    ModelInfo,
    available_models,
    default_output_tokens,
    estimate_input_tokens,
    offered_model,
)
from core.errors import AppError
from core.image_catalog import ImageModel, available_image_models
from core.settings import Settings

router = APIRouter(prefix="/v1")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
IMAGE_TOKENS = 1600  # reserved per input image (Claude's ~1.15 MP image; OpenAI and Gemini use fewer)


def model_out(model: ModelInfo | ImageModel) -> dict[str, Any]:
    return {"id": model.id, "object": "model", "created": 0, "owned_by": model.provider}


def allowed(caller: Caller, model_id: str) -> bool:
    return caller.key.allowed_models is None or model_id in caller.key.allowed_models


@router.get("/models")
async def list_models(caller: CallerDep, state: StateDep) -> dict[str, Any]:
    """The catalog's chat and image models this key may use (``owned_by`` is the provider)."""
    catalog: list[ModelInfo | ImageModel] = [
        *available_models(state.settings),
        *available_image_models(state.settings),
    ]
    return {"object": "list", "data": [model_out(m) for m in catalog if allowed(caller, m.id)]}


@router.get("/models/{model_id:path}")  # image ids have a slash: black-forest-labs/flux-schnell
async def get_model(model_id: str, caller: CallerDep, state: StateDep) -> dict[str, Any]:
    image = next((m for m in available_image_models(state.settings) if m.id == model_id), None)
    if image is not None and allowed(caller, image.id):
        return model_out(image)
    return model_out(_model(model_id, caller, state.settings))


def _model(model_id: str, caller: Caller, settings: Settings) -> ModelInfo:
    try:
        model = offered_model(model_id, settings)
    except AppError:  # unknown, provider switched off, or retired
        raise model_not_found(model_id) from None
    if not allowed(caller, model.id):
        raise model_not_allowed(model.id)
    return model


def _output_cap(request: CompletionRequest, model: ModelInfo) -> int:
    if request.max_tokens is not None and request.max_tokens > model.max_output_tokens:
        raise invalid(
            "max_tokens",
            "max_tokens is too large: {asked}. This model supports at most {most} output tokens.",
            asked=request.max_tokens,
            most=model.max_output_tokens,
        )
    return request.max_tokens or default_output_tokens(model)


@router.post("/chat/completions")
async def chat_completions(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    limits: KeyLimitsDep,
) -> Response:
    try:
        raw = await request.json()
    except ValueError:
        raise invalid("body", "We could not parse the JSON body of your request.") from None
    asked = parse_completion(raw)
    model = _model(asked.model, caller, state.settings)
    cap = _output_cap(asked, model)
    estimate = estimate_input_tokens(asked.texts) + IMAGE_TOKENS * asked.image_count
    if estimate + cap > model.context_window:
        raise OpenAIError(
            400,
            "This model's context window is {window} tokens; the messages and max_tokens need about {need}.",
            code="context_length_exceeded",
            param="messages",
            window=model.context_window,
            need=estimate + cap,
        )
    await limits.admit(caller, estimate)
    turn = await apiturns.start_api_turn(
        session,
        key=caller.key,
        model=model,
        request=asked.stored(),
        input_estimate=estimate,
        max_output_tokens=cap,
        min_output_tokens=min(chat.MIN_OUTPUT_TOKENS, cap),
        end_user=asked.end_user,
    )
    new_turn = chat.NewTurn(turn.turn_id, "", turn.workflow_id, estimate)
    locale = caller.user.locale
    await launch(
        state, session, client, caller.user, model, turn.max_output_tokens, new_turn, locale, stateless=True
    )
    return await _answer(state, client, caller, limits, asked, model, turn, estimate)


async def _answer(
    state: AppState,
    client: Client,
    caller: Caller,
    limits: KeyLimits,
    asked: CompletionRequest,
    model: ModelInfo,
    turn: apiturns.NewApiTurn,
    estimate: int,
) -> Response:
    events = TurnEvents(state.bus, state.db, turn.turn_id)
    answer = Answer(turn.turn_id, model.id, turn.max_output_tokens)

    async def count_usage(usage: dict[str, int]) -> None:
        await limits.used(caller, estimate, usage.get("input_tokens", 0), usage.get("output_tokens", 0))

    handed_to_stream = False  # the streamed answer's frames close the events when they end
    try:
        first = await events.first()  # an error before any text is an HTTP error, not a stream
        if first.type == "error":
            raise turn_error(first.data)
        if not asked.stream:
            text = await collect(events, first, answer)
            await count_usage(answer.usage or {})
            return JSONResponse(answer.completion(text))
        frames = sse(
            events,
            first,
            answer,
            include_usage=asked.include_usage,
            locale=caller.user.locale,
            stop=stopper(state.bus, client, turn.turn_id, turn.workflow_id),
            on_usage=count_usage,
        )
        handed_to_stream = True
        return StreamingResponse(frames, media_type="text/event-stream", headers=SSE_HEADERS)
    finally:
        if not handed_to_stream:
            await events.aclose()
