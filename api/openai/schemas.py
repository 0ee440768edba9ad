"""Parsing ``POST /chat/completions`` bodies: what is supported is used, anything else is an
OpenAI-shaped 400 naming the parameter (a ``null`` value counts as not sent)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from api.openai.errors import check_parameters, invalid, unsupported

SUPPORTED = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "response_format",
    "user",
}
# Parameters accepted only at their default value (clients send them explicitly).
DEFAULTS_ONLY: dict[str, tuple[object, ...]] = {
    "n": (1,),
    "presence_penalty": (0, 0.0),
    "frequency_penalty": (0, 0.0),
    "logprobs": (False,),
    "parallel_tool_calls": (True, False),
    "store": (False,),
}
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MESSAGE_KEYS = {"role", "content", "name"}
MAX_STOP = 4
MAX_IMAGES = 8
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}
DATA_URL = re.compile(r"^data:(image/[a-z+.-]+);base64,([A-Za-z0-9+/=\s]+)$")


@dataclass
class CompletionRequest:
    model: str
    messages: list[dict[str, Any]]  # {"role", "content": text, "images": [data URLs]}
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # temperature, top_p, stop, json_schema
    end_user: str = ""

    @property
    def texts(self) -> list[str]:
        return [m["content"] for m in self.messages]

    @property
    def image_count(self) -> int:
        return sum(len(m["images"]) for m in self.messages)

    def stored(self) -> dict[str, Any]:
        """What the turn keeps while it runs (``core.apiturns``)."""
        return {"messages": self.messages, **self.options}


def parse_completion(body: object) -> CompletionRequest:
    if not isinstance(body, dict):
        raise invalid("body", "The request body must be a JSON object.")
    check_parameters(body, SUPPORTED, DEFAULTS_ONLY)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model", "You must provide a model parameter.")
    request = CompletionRequest(model=model, messages=_messages(body.get("messages")))
    request.stream = _flag(body, "stream")
    options = body.get("stream_options")
    if options is not None:
        if not isinstance(options, dict) or set(options) - {"include_usage"}:
            raise unsupported("stream_options")
        request.include_usage = bool(options.get("include_usage"))
    request.max_tokens = _max_tokens(body)
    request.options = _sampling(body)
    request.end_user = _string(body, "user", 256)
    return request


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise invalid(name, "'{name}' must be a boolean.", name=name)
    return bool(value)


def _string(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise invalid(
            name, "'{name}' must be a string of at most {limit} characters.", name=name, limit=limit
        )
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise invalid(name, "'{name}' must be a number from {low} to {high}.", name=name, low=low, high=high)
    return float(value)


def _max_tokens(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise invalid(name, "'{name}' must be a whole number of at least 1.", name=name)
        return value
    return None


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    temperature = _number(body, "temperature", 0, 2)
    if temperature is not None:
        options["temperature"] = temperature
    top_p = _number(body, "top_p", 0, 1)
    if top_p is not None:
        options["top_p"] = top_p
    stop = body.get("stop")
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if (
            not isinstance(stops, list)
            or len(stops) > MAX_STOP
            or not all(isinstance(s, str) and s for s in stops)
        ):
            raise invalid(
                "stop", "'stop' must be a string or a list of up to {count} strings.", count=MAX_STOP
            )
        options["stop"] = stops
    schema = _response_format(body.get("response_format"))
    if schema is not None:
        options["json_schema"] = schema
    return options


def _response_format(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        spec = value.get("json_schema") if isinstance(value, dict) else None
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise invalid(
                "response_format", "'response_format.json_schema.schema' must be a JSON schema object."
            )
        return schema
    raise invalid("response_format", "'response_format.type' must be text, json_object or json_schema.")


def _messages(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise invalid("messages", "'messages' must be a non-empty array.")
    messages = [_message(item, index) for index, item in enumerate(value)]
    if not any(m["role"] == "user" for m in messages):
        raise invalid("messages", "'messages' must contain at least one user message.")
    if sum(len(m["images"]) for m in messages) > MAX_IMAGES:
        raise invalid("messages", "At most {count} images can be sent in one request.", count=MAX_IMAGES)
    return messages


def _message(item: object, index: int) -> dict[str, Any]:
    param = f"messages[{index}]"
    if not isinstance(item, dict):
        raise invalid(param, "Each message must be an object with a role and content.")
    role = ROLES.get(str(item.get("role")))
    if role is None:
        if item.get("role") in ("tool", "function"):
            raise unsupported(f"{param}.role")
        raise invalid(f"{param}.role", "A message's role must be system, developer, user or assistant.")
    for name, value in item.items():
        if name not in MESSAGE_KEYS and value is not None:
            raise unsupported(f"{param}.{name}")
    text, images = _content(item.get("content"), param, role)
    return {"role": role, "content": text, "images": images}


def _content(content: object, param: str, role: str) -> tuple[str, list[str]]:
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise invalid(f"{param}.content", "A message's content must be a string or an array of parts.")
    texts: list[str] = []
    images: list[str] = []
    for position, part in enumerate(content):
        where = f"{param}.content[{position}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url" and role == "user":
            images.append(_image(part.get("image_url"), where))
        else:
            raise unsupported(f"{where}.type")
    return "\n".join(texts), images


def _image(value: object, where: str) -> str:
    url = value.get("url") if isinstance(value, dict) else value
    match = DATA_URL.match(url) if isinstance(url, str) else None
    if match is None:
        raise invalid(
            f"{where}.image_url", "Images must be sent as base64 data URLs (data:image/png;base64,…)."
        )
    if match.group(1) not in IMAGE_TYPES:
        raise invalid(f"{where}.image_url", "Images must be PNG, JPEG, WebP or GIF.")
    try:
        size = len(base64.b64decode(match.group(2), validate=False))
    except (binascii.Error, ValueError):
        raise invalid(f"{where}.image_url", "The image is not valid base64.") from None
    if size > MAX_IMAGE_BYTES:
        raise invalid(
            f"{where}.image_url", "An image can be at most {mb} MB.", mb=MAX_IMAGE_BYTES // (1024 * 1024)
        )
    return f"data:{match.group(1)};base64,{''.join(match.group(2).split())}"
