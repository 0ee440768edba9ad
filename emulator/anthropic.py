"""Anthropic: messages (JSON and SSE with the real event sequence), tool-schema JSON output."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from emulator import text
from emulator.state import EmulatorState, Fault, api_key, get_state, rejected_key, retry_headers
from emulator.streaming import EventStream, hold, paced, sse

LISTED = ("claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6")
router = APIRouter(tags=["anthropic"])
PROVIDER = "anthropic"
ERRORS = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "An unexpected error has occurred internal to Anthropic's systems."),
    504: ("timeout_error", "Request timed out."),
    529: ("overloaded_error", "Overloaded"),
}


def error(status: int, message: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    kind, default = ERRORS.get(status, ("api_error", "Error."))
    body = {
        "type": "error",
        "error": {"type": kind, "message": message or default},
        "request_id": _request_id(),
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _request_id() -> str:
    return f"req_{uuid.uuid4().hex[:24]}"


def fault_response(fault: Fault) -> JSONResponse:
    headers = {"request-id": _request_id(), **retry_headers(fault.retry_after_s)}
    if fault.kind == "quota":
        message = "You have reached your specified API usage limits."
        details = {"error_code": "enforced_spend_limit_reached"}
        body = {
            "type": "error",
            "error": {"type": "rate_limit_error", "message": message, "details": details},
            "request_id": headers["request-id"],
        }
        return JSONResponse(body, status_code=429, headers=headers)
    return error(fault.status or 500, headers=headers)


IMAGE_TOKENS = 1600  # about a 1.15-megapixel image (width × height / 750)


def block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def image_blocks(content: Any) -> int:
    """``image`` blocks (base64 or url source) of one message's content."""
    if not isinstance(content, list):
        return 0
    return sum(
        1
        for block in content
        if isinstance(block, dict)
        and block.get("type") == "image"
        and (block.get("source") or {}).get("type") in ("base64", "url")
    )


def tool_for(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool the model is forced to call (how callers ask Anthropic for schema JSON)."""
    tools = [tool for tool in body.get("tools") or [] if isinstance(tool, dict) and "input_schema" in tool]
    choice = body.get("tool_choice") or {}
    if not tools or choice.get("type") not in ("tool", "any"):
        return None
    if choice.get("type") == "tool":
        return next((tool for tool in tools if tool.get("name") == choice.get("name")), None)
    return tools[0]


def check(body: dict[str, Any]) -> JSONResponse | None:
    model = str(body.get("model") or "")
    if not model:
        return error(400, "model: Field required")
    if not model.startswith("claude"):
        return error(404, f"model: {model}")
    if not isinstance(body.get("max_tokens"), int):
        return error(400, "max_tokens: Field required")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return error(400, "messages: at least one message is required")
    if body["messages"][0].get("role") != "user":
        return error(400, 'messages: first message must use the "user" role')
    return None


@router.get("/v1/models")
async def list_models(request: Request) -> Response:
    """The models list (what a client warming its connection at start asks for; free upstream)."""
    if rejected_key(api_key(request, "x-api-key", "authorization")):
        return error(401)
    created = "2025-10-01T00:00:00Z"
    data = [{"type": "model", "id": m, "display_name": m, "created_at": created} for m in LISTED]
    return JSONResponse({"data": data, "has_more": False, "first_id": LISTED[0], "last_id": LISTED[-1]})


@router.post("/v1/messages")
async def messages(request: Request) -> Response:
    state = get_state(request)
    state.record_request(PROVIDER)
    if rejected_key(api_key(request, "x-api-key", "authorization")):
        return error(401)
    try:
        body = await request.json()
    except ValueError:
        return error(400, "Invalid JSON body.")
    problem = check(body)
    if problem is not None:
        return problem
    fault = state.take_fault(PROVIDER, body["model"])
    if fault is not None and fault.status is not None:
        await fault.wait()
        return fault_response(fault)
    tool = tool_for(body)
    system = block_text(body.get("system"))
    texts = ([system] if system else []) + [block_text(m.get("content")) for m in body["messages"]]
    users = [m.get("content") for m in body["messages"] if m.get("role") == "user"]
    reply = text.compose(
        model=body["model"],
        texts=texts,
        last_user=block_text(users[-1]) if users else "",
        limit=body["max_tokens"],
        schema=tool["input_schema"] if tool else None,
        images=sum(image_blocks(content) for content in users),
        image_tokens=IMAGE_TOKENS * sum(image_blocks(m.get("content")) for m in body["messages"]),
    )
    message_id = f"msg_{uuid.uuid4().hex[:24]}"
    if body.get("stream"):
        events = stream(state, body["model"], message_id, reply, tool, fault)
        return EventStream(events, state=state, provider=PROVIDER, fault=fault)
    if await hold(fault):
        return error(529)
    return JSONResponse(message(body["model"], message_id, reply, tool))


def _usage(reply: text.Reply, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def _stop_reason(reply: text.Reply, tool: dict[str, Any] | None) -> str:
    if reply.truncated:
        return "max_tokens"
    return "tool_use" if tool else "end_turn"


def _block(reply: text.Reply, tool: dict[str, Any] | None, *, empty: bool) -> dict[str, Any]:
    if tool is None:
        return {"type": "text", "text": "" if empty else reply.text}
    tool_input: Any = {}
    if not empty:
        try:
            tool_input = json.loads(reply.text)
        except ValueError:
            tool_input = {}
    return {
        "type": "tool_use",
        "id": f"toolu_{uuid.uuid4().hex[:24]}",
        "name": tool["name"],
        "input": tool_input,
    }


def message(model: str, message_id: str, reply: text.Reply, tool: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [_block(reply, tool, empty=False)],
        "stop_reason": _stop_reason(reply, tool),
        "stop_sequence": None,
        "usage": _usage(reply, reply.output_tokens),
    }


def _event(name: str, **data: Any) -> bytes:
    return sse(json.dumps({"type": name, **data}, ensure_ascii=False), event=name)


async def stream(
    state: EmulatorState,
    model: str,
    message_id: str,
    reply: text.Reply,
    tool: dict[str, Any] | None,
    fault: Fault | None,
) -> AsyncIterator[bytes]:
    start = {**message(model, message_id, reply, tool), "content": [], "stop_reason": None}
    start["usage"] = _usage(reply, 1)
    yield _event("message_start", message=start)
    yield _event("content_block_start", index=0, content_block=_block(reply, tool, empty=True))
    yield _event("ping")
    async for piece in paced(state, reply.chunks, fault):
        delta = (
            {"type": "input_json_delta", "partial_json": piece}
            if tool
            else {"type": "text_delta", "text": piece}
        )
        yield _event("content_block_delta", index=0, delta=delta)
    if fault is not None and fault.kind == "stream_error":
        yield _event("error", error={"type": "overloaded_error", "message": "Overloaded"})
        return
    if fault is not None and fault.kind == "truncate":
        return
    yield _event("content_block_stop", index=0)
    stop: dict[str, Any] = {"stop_reason": _stop_reason(reply, tool), "stop_sequence": None}
    yield _event("message_delta", delta=stop, usage=_usage(reply, reply.output_tokens))
    yield _event("message_stop")
