"""OpenAI: chat completions (JSON and SSE with the usage chunk), models, moderations."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from emulator import text
from emulator.state import EmulatorState, Fault, api_key, get_state, rejected_key, retry_headers
from emulator.streaming import EventStream, hold, paced, sse

router = APIRouter(tags=["openai"])
PROVIDER = "openai"
MODELS = ("gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "gpt-4.1", "gpt-4o", "gpt-4o-mini")
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
MODERATION_MODEL = "omni-moderation-latest"
FLAG_PHRASE = "emulator-flag"  # flags "violence"; "[flag:<category>]" flags that category
ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def error(
    status: int, message: str | None = None, *, code: str | None = None, param: str | None = None, **kw: Any
) -> JSONResponse:
    kind, default_code, default_message = ERRORS.get(status, ("server_error", None, "Error."))
    body = {"message": message or default_message, "type": kind, "param": param, "code": code or default_code}
    return JSONResponse({"error": body}, status_code=status, headers=kw.get("headers"))


def fault_response(fault: Fault) -> JSONResponse:
    """The HTTP answer for an HTTP-level fault (529 becomes 503: OpenAI has no 529)."""
    headers = {"x-request-id": f"req_{uuid.uuid4().hex}", **retry_headers(fault.retry_after_s)}
    if fault.kind == "quota":
        message = "You exceeded your current quota, please check your plan and billing details."
        body = {"message": message, "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}
        return JSONResponse({"error": body}, status_code=429, headers=headers)
    status = fault.status or 500
    if status == 529:
        status = 503
    return error(status, headers=headers)


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


IMAGE_TOKENS = 85  # an image part at detail "low"


def is_gpt5(model: str) -> bool:
    return model.startswith("gpt-5")


def known_model(model: str) -> bool:
    return model.startswith(("gpt-", "o1", "o3", "o4", "chatgpt-"))


def check_params(body: dict[str, Any]) -> JSONResponse | None:
    model = str(body.get("model") or "")
    if not model:
        return error(400, "you must provide a model parameter", param="model")
    if not known_model(model):
        return error(404, f"The model `{model}` does not exist or you do not have access to it.")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return error(400, "'messages' must be a non-empty array", param="messages")
    if is_gpt5(model) and body.get("max_tokens") is not None:
        message = (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead."
        )
        return error(400, message, code="unsupported_parameter", param="max_tokens")
    temperature = body.get("temperature")
    if is_gpt5(model) and temperature is not None and temperature != 1:
        message = (
            f"Unsupported value: 'temperature' does not support {temperature} with this model. "
            "Only the default (1) value is supported."
        )
        return error(400, message, code="unsupported_value", param="temperature")
    return None


def schema_of(body: dict[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema: dict[str, Any] = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
        return schema
    if fmt.get("type") == "json_object":
        return {"type": "object", "properties": {"reply": {"type": "string"}}}
    return None


def image_parts(content: Any) -> int:
    """``image_url`` parts (a data: URL or an https URL) of one message's content."""
    if not isinstance(content, list):
        return 0
    return sum(
        1
        for part in content
        if isinstance(part, dict)
        and part.get("type") == "image_url"
        and str((part.get("image_url") or {}).get("url", "")).startswith(("data:image/", "https://"))
    )


def compose(body: dict[str, Any]) -> text.Reply:
    texts = [content_text(message.get("content")) for message in body["messages"]]
    users = [m.get("content") for m in body["messages"] if m.get("role") == "user"]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    return text.compose(
        model=body["model"],
        texts=texts,
        last_user=content_text(users[-1]) if users else "",
        limit=int(limit) if limit is not None else None,
        schema=schema_of(body),
        images=sum(image_parts(content) for content in users),
        image_tokens=IMAGE_TOKENS * sum(image_parts(m.get("content")) for m in body["messages"]),
    )


def usage(reply: text.Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    state = get_state(request)
    state.record_request(PROVIDER)
    if rejected_key(api_key(request, "authorization")):
        return error(401)
    try:
        body = await request.json()
    except ValueError:
        return error(400, "We could not parse the JSON body of your request.")
    problem = check_params(body)
    if problem is not None:
        return problem
    fault = state.take_fault(PROVIDER, body["model"])
    if fault is not None and fault.status is not None:
        await fault.wait()
        return fault_response(fault)
    reply = compose(body)
    if fault is not None and fault.kind == "invalid_json" and schema_of(body) is not None:
        broken = ['{"unexpected":', " true}"]
        reply = text.Reply(chunks=broken, input_tokens=reply.input_tokens, truncated=False)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = stream(state, body["model"], completion_id, reply, fault, include_usage)
        return EventStream(chunks, state=state, provider=PROVIDER, fault=fault)
    if await hold(fault):
        return error(500)
    return JSONResponse(completion(body["model"], completion_id, reply))


def completion(model: str, completion_id: str, reply: text.Reply) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []},
                "finish_reason": "length" if reply.truncated else "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(reply),
        "service_tier": "default",
        "system_fingerprint": "fp_emulator",
    }


async def stream(
    state: EmulatorState,
    model: str,
    completion_id: str,
    reply: text.Reply,
    fault: Fault | None,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_emulator",
            "choices": [choice],
            **({"usage": None} if include_usage else {}),
            **extra,
        }
        return sse(json.dumps(payload, ensure_ascii=False))

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    async for piece in paced(state, reply.chunks, fault):
        yield chunk({"content": piece})
    if fault is not None and fault.kind == "stream_error":
        message = "The server had an error while processing your request. Sorry about that!"
        yield sse(
            json.dumps({"error": {"message": message, "type": "server_error", "param": None, "code": None}})
        )
        return
    if fault is not None and fault.kind == "truncate":
        return
    yield chunk({}, "length" if reply.truncated else "stop")
    if include_usage:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_emulator",
            "choices": [],
            "usage": usage(reply),
        }
        yield sse(json.dumps(payload))
    yield sse("[DONE]")


@router.get("/v1/models")
async def models(request: Request) -> Response:
    if rejected_key(api_key(request, "authorization")):
        return error(401)
    data = [{"id": model, "object": "model", "created": 1700000000, "owned_by": "openai"} for model in MODELS]
    return JSONResponse({"object": "list", "data": data})


@router.post("/v1/moderations")
async def moderations(request: Request) -> Response:
    state = get_state(request)
    state.counts(PROVIDER).moderations += 1
    if rejected_key(api_key(request, "authorization")):
        return error(401)
    body = await request.json()
    if state.moderation_ms:
        state.moderating += 1
        try:
            await asyncio.sleep(state.moderation_ms / 1000)
        finally:
            state.moderating -= 1
    fault = state.take_fault(PROVIDER, body.get("model") or MODERATION_MODEL, explicit=True)
    if fault is not None and fault.status is not None:
        return fault_response(fault)
    inputs = body.get("input")
    if isinstance(inputs, list) and inputs and not isinstance(inputs[0], str):
        results = [moderate(content_text(inputs))]  # one multi-modal input: text and image parts
    else:
        results = [moderate(str(item)) for item in (inputs if isinstance(inputs, list) else [inputs])]
    model = body.get("model") or MODERATION_MODEL
    return JSONResponse({"id": f"modr-{uuid.uuid4().hex[:20]}", "model": model, "results": results})


def moderate(value: str) -> dict[str, Any]:
    lowered = value.lower()
    flagged = {"violence"} if FLAG_PHRASE in lowered else set()
    flagged |= {c for c in MODERATION_CATEGORIES if f"[flag:{c}]" in lowered}
    return {
        "flagged": bool(flagged),
        "categories": {c: c in flagged for c in MODERATION_CATEGORIES},
        "category_scores": {c: 0.97 if c in flagged else 0.0001 for c in MODERATION_CATEGORIES},
        "category_applied_input_types": {c: ["text"] for c in MODERATION_CATEGORIES},
    }
