"""Anthropic messages through the official SDK (raw SSE events; tool input schema for JSON).

The SDK is imported on first use (``LLMClient.anthropic_client``), not with this module."""

from __future__ import annotations

import base64
import functools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from core.catalog import ModelInfo
from providers.llm.errors import (
    TRANSPORT_ERRORS,
    NonRetryableProviderError,
    ProviderError,
    RetryableProviderError,
    by_status,
    retry_after_from,
)
from providers.llm.types import ChatEvent, ChatMessage, ChatRequest, TextDelta, Usage

if TYPE_CHECKING:
    import anthropic

PROVIDER = "anthropic"
TOOL = "reply"
RETRYABLE_TYPES = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
NON_RETRYABLE_DETAILS = {"enforced_spend_limit_reached"}


@functools.cache
def caught() -> tuple[type[Exception], ...]:
    """The exceptions a call can raise: the SDK's and the transport's."""
    import anthropic

    return (anthropic.AnthropicError, *TRANSPORT_ERRORS)


def classify(error: Exception) -> ProviderError:
    import anthropic

    if isinstance(error, anthropic.APIStatusError):
        kind, detail = _error_type(error.body)
        status = error.status_code
        retry_after = retry_after_from(error.response.headers)
        message = str(error.message)
        if status == 200:  # an `event: error` inside the stream
            if kind in RETRYABLE_TYPES:
                return RetryableProviderError(
                    message, PROVIDER, 529 if kind == "overloaded_error" else None, kind
                )
            return NonRetryableProviderError(message, PROVIDER, None, kind)
        if detail in NON_RETRYABLE_DETAILS or kind == "billing_error":
            return NonRetryableProviderError(message, PROVIDER, status, detail or kind)
        return by_status(message, PROVIDER, status, kind, retry_after)
    if isinstance(error, (anthropic.APIConnectionError, *TRANSPORT_ERRORS)):
        return RetryableProviderError(str(error) or "connection error", PROVIDER, None, "connection_error")
    return RetryableProviderError(str(error), PROVIDER, None, "unexpected_error")


def _error_type(body: object) -> tuple[str | None, str | None]:
    """``error.type`` and ``error.details.error_code`` from an Anthropic error body."""
    if not isinstance(body, dict):
        return None, None
    inner = body.get("error", body)
    if not isinstance(inner, dict):
        return None, None
    details = inner.get("details")
    detail = details.get("error_code") if isinstance(details, dict) else None
    return inner.get("type"), detail


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """Text, or ``image`` blocks (base64) then the text for a message with images."""
    if not message.images:
        return message.content
    blocks: list[dict[str, Any]] = [
        {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": image.media_type,
                "data": base64.b64encode(image.data).decode(),
            },
        }
        for image in message.images
    ]
    return [*blocks, {"type": "text", "text": message.content}]


class AnthropicChat:
    def __init__(self, client: anthropic.AsyncAnthropic) -> None:
        self.client = client

    def params(self, model: ModelInfo, request: ChatRequest) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        params: dict[str, Any] = {
            "model": model.id,
            "max_tokens": request.max_output_tokens,
            "messages": [
                {"role": m.role, "content": _content(m)} for m in request.messages if m.role != "system"
            ],
        }
        if system:
            params["system"] = system
        if request.temperature is not None:  # newer SDKs dropped the keyword; the API still takes it
            params["extra_body"] = {"temperature": request.temperature}
        if request.json_schema is not None:
            description = "Reply with JSON that matches this schema."
            params["tools"] = [
                {"name": TOOL, "description": description, "input_schema": request.json_schema}
            ]
            params["tool_choice"] = {"type": "tool", "name": TOOL}
        return params

    async def stream(self, model: ModelInfo, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        try:
            stream = await self.client.messages.create(**self.params(model, request), stream=True)
        except caught() as error:
            raise classify(error) from error
        input_tokens = cached = output_tokens = 0
        finished = False
        try:
            async for event in stream:
                if event.type == "message_start":
                    usage = event.message.usage
                    cached = usage.cache_read_input_tokens or 0
                    input_tokens = usage.input_tokens + cached + (usage.cache_creation_input_tokens or 0)
                elif event.type == "content_block_delta":
                    if event.delta.type == "text_delta" and event.delta.text:
                        yield TextDelta(event.delta.text)
                    elif event.delta.type == "input_json_delta" and event.delta.partial_json:
                        yield TextDelta(event.delta.partial_json)
                elif event.type == "message_delta":
                    output_tokens = event.usage.output_tokens
                    if event.delta.stop_reason == "refusal":
                        raise NonRetryableProviderError("the model refused", PROVIDER, None, "content_policy")
                    finished = True
        except caught() as error:
            raise classify(error) from error
        finally:
            await stream.close()
        if not finished:
            raise RetryableProviderError(
                "the stream ended without usage", PROVIDER, None, "incomplete_stream"
            )
        yield Usage(input_tokens, output_tokens, cached)
