"""Google Gemini: generateContent and streamGenerateContent?alt=sse with usageMetadata."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from emulator import gemini_images, text
from emulator.state import EmulatorState, Fault, api_key, get_state, rejected_key, retry_headers
from emulator.streaming import EventStream, hold, paced, sse

router = APIRouter(tags=["google"])
PROVIDER = "google"
STATUSES = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "API key not valid. Please pass a valid API key."),
    403: ("PERMISSION_DENIED", "The caller does not have permission."),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "The request timed out."),
}


def error_body(status: int, message: str | None = None, details: list[Any] | None = None) -> dict[str, Any]:
    name, default = STATUSES.get(status, ("UNKNOWN", "Unknown error."))
    body: dict[str, Any] = {"code": status, "message": message or default, "status": name}
    if details:
        body["details"] = details
    return {"error": body}


def error(status: int, message: str | None = None, details: list[Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, details), status_code=status)


def fault_response(fault: Fault) -> JSONResponse:
    if fault.kind == "quota":
        violation = {
            "quotaMetric": "generate_content_requests",
            "quotaId": "GenerateRequestsPerDayPerProjectPerModel",
        }
        quota = [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]}]
        return error(
            429, "You exceeded your current quota, please check your plan and billing details.", quota
        )
    status = fault.status or 500
    if status == 529:
        status = 503
    details: list[Any] | None = None
    if fault.retry_after_s is not None:
        delay = f"{fault.retry_after_s:g}s"
        details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]
    response = error(status, details=details)
    response.headers.update(retry_headers(fault.retry_after_s))
    return response


IMAGE_TOKENS = 258  # Gemini's figure for an image up to 384 × 384


def parts_text(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    return "".join(str(part.get("text", "")) for part in content.get("parts") or [] if isinstance(part, dict))


def inline_images(content: Any) -> int:
    """Image parts of one content: ``inlineData`` (``inline_data``) with an image ``mimeType``
    (the API reads proto JSON, so ``mime_type`` too: google-genai sends that)."""
    parts = content.get("parts") or [] if isinstance(content, dict) else []
    count = 0
    for part in parts:
        blob = (part.get("inlineData") or part.get("inline_data") or {}) if isinstance(part, dict) else {}
        if str(blob.get("mimeType") or blob.get("mime_type") or "").startswith("image/") and blob.get("data"):
            count += 1
    return count


def schema_of(config: dict[str, Any]) -> dict[str, Any] | None:
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if isinstance(schema, dict):
        return schema
    if config.get("responseMimeType") == "application/json":
        return {"type": "object", "properties": {"reply": {"type": "string"}}}
    return None


@router.get("/v1/models")
@router.get("/v1beta/models")
async def list_models(request: Request) -> Response:
    """The models list (what a client warming its connection at start asks for; free upstream)."""
    if rejected_key(api_key(request, "x-goog-api-key")):
        return error(401)
    listed = ("gemini-2.5-flash", "gemini-2.5-pro")
    return JSONResponse({"models": [{"name": f"models/{m}", "displayName": m} for m in listed]})


@router.post("/v1/models/{target}")  # google-genai 3.x defaults to v1
@router.post("/v1beta/models/{target}")
async def models(target: str, request: Request) -> Response:
    state = get_state(request)
    state.record_request(PROVIDER)
    model, _, method = target.partition(":")
    if method not in ("generateContent", "streamGenerateContent"):
        return error(404, f"Method {method!r} is not supported by the emulator.")
    if rejected_key(api_key(request, "x-goog-api-key")):
        return error(400, "API key not valid. Please pass a valid API key.")
    if not model.startswith("gemini"):
        return error(404, f"models/{model} is not found for API version v1beta.")
    try:
        body = await request.json()
    except ValueError:
        return error(400, "Invalid JSON payload received.")
    if not isinstance(body.get("contents"), list) or not body["contents"]:
        return error(400, "* GenerateContentRequest.contents: contents is not specified")
    fault = state.take_fault(PROVIDER, model)
    if fault is not None and fault.status is not None:
        await fault.wait()
        return fault_response(fault)
    config = body.get("generationConfig") or {}
    if gemini_images.wants_image(config) and method == "generateContent":
        return gemini_images.respond(model, body, config, fault)
    system = parts_text(body.get("systemInstruction"))
    texts = ([system] if system else []) + [parts_text(content) for content in body["contents"]]
    users = [c for c in body["contents"] if c.get("role", "user") == "user"]
    limit = config.get("maxOutputTokens")
    reply = text.compose(
        model=model,
        texts=texts,
        last_user=parts_text(users[-1]) if users else "",
        limit=int(limit) if limit is not None else None,
        schema=schema_of(config),
        images=sum(inline_images(content) for content in users),
        image_tokens=IMAGE_TOKENS * sum(inline_images(c) for c in body["contents"]),
    )
    response_id = uuid.uuid4().hex[:20]
    if method == "streamGenerateContent":
        return EventStream(
            stream(state, model, response_id, reply, fault), state=state, provider=PROVIDER, fault=fault
        )
    if await hold(fault):
        return error(503)
    return JSONResponse(frame(model, response_id, reply.text, reply, final=True))


def frame(model: str, response_id: str, piece: str, reply: text.Reply, *, final: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}
    payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": response_id}
    if final:
        candidate["finishReason"] = "MAX_TOKENS" if reply.truncated else "STOP"
        payload["usageMetadata"] = {
            "promptTokenCount": reply.input_tokens,
            "candidatesTokenCount": reply.output_tokens,
            "totalTokenCount": reply.input_tokens + reply.output_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}],
        }
    return payload


async def stream(
    state: EmulatorState, model: str, response_id: str, reply: text.Reply, fault: Fault | None
) -> AsyncIterator[bytes]:
    """One frame per token; the last one carries finishReason and usageMetadata."""
    last = len(reply.chunks) - 1
    sent = 0
    async for piece in paced(state, reply.chunks, fault):
        is_final = sent == last and (fault is None or fault.kind == "slow")
        yield sse(json.dumps(frame(model, response_id, piece, reply, final=is_final), ensure_ascii=False))
        sent += 1
    if fault is not None and fault.kind == "stream_error":
        yield sse(json.dumps(error_body(503)))
        return
    if fault is not None and fault.kind == "truncate":
        return
    if last < 0:
        yield sse(json.dumps(frame(model, response_id, "", reply, final=True)))
