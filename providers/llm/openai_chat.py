"""OpenAI chat completions through the official SDK (``max_completion_tokens``, SSE usage chunk).

The SDK is imported on first use (``LLMClient.openai_client``), not with this module. Requests go
through the client's own ``post`` with the SDK's response types (same auth, timeouts, errors
and SSE parsing as ``client.chat.completions.create``): touching ``client.chat`` or
``client.moderations`` imports ``openai.resources``, whose ``__init__`` loads every resource
of the SDK (~500 modules, ~17 MB resident per process) for the two endpoints used here."""

from __future__ import annotations

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
from providers.llm.types import ChatEvent, ChatMessage, ChatRequest, ModerationResult, TextDelta, Usage

if TYPE_CHECKING:
    import openai

PROVIDER = "openai"
NON_RETRYABLE_CODES = {"insufficient_quota", "billing_hard_limit_reached", "content_policy_violation"}
MODERATION_MODEL = "omni-moderation-latest"


@functools.cache
def caught() -> tuple[type[Exception], ...]:
    """The exceptions a call can raise: the SDK's and the transport's."""
    import openai

    return (openai.OpenAIError, *TRANSPORT_ERRORS)


def classify(error: Exception) -> ProviderError:
    """Map an SDK or transport exception to our typed errors."""
    import openai

    if isinstance(error, openai.APIStatusError):
        code = _code(error)
        retry_after = retry_after_from(error.response.headers)
        if code in NON_RETRYABLE_CODES:
            return NonRetryableProviderError(error.message, PROVIDER, error.status_code, code)
        return by_status(error.message, PROVIDER, error.status_code, code, retry_after)
    if isinstance(error, (openai.APIConnectionError, *TRANSPORT_ERRORS)):
        return RetryableProviderError(str(error) or "connection error", PROVIDER, None, "connection_error")
    if isinstance(error, openai.APIError):  # an {"error": …} payload inside the stream
        code = _code(error) or "stream_error"
        if code in NON_RETRYABLE_CODES:
            return NonRetryableProviderError(error.message, PROVIDER, None, code)
        return RetryableProviderError(error.message, PROVIDER, None, code)
    return RetryableProviderError(str(error), PROVIDER, None, "unexpected_error")


def _code(error: openai.APIError) -> str | None:
    code = error.code or error.type
    return str(code) if code else None


def uses_completion_params(model_id: str) -> bool:
    """gpt-5 and the o-series reject ``max_tokens`` and any temperature but 1."""
    return model_id.startswith(("gpt-5", "o1", "o3", "o4"))


def response_format(schema: dict[str, Any]) -> dict[str, Any]:
    strict = schema.get("additionalProperties") is False
    return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": strict}}


class OpenAIChat:
    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.client = client

    def params(self, model: ModelInfo, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": model.id,
            "messages": [{"role": m.role, "content": _content(m)} for m in request.messages],
            "max_completion_tokens": request.max_output_tokens,
        }
        if request.temperature is not None and not uses_completion_params(model.id):
            params["temperature"] = request.temperature
        if request.json_schema is not None:
            params["response_format"] = response_format(request.json_schema)
        return params

    async def stream(self, model: ModelInfo, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        from openai import AsyncStream

        body = {**self.params(model, request), "stream": True, "stream_options": {"include_usage": True}}
        try:
            # ``object``: each chunk stays the JSON dict the SDK decoded from the SSE line (still
            # the SDK's transport, auth, SSE parsing and error events). Building a pydantic
            # ChatCompletionChunk per token cost more CPU than the rest of the stream's handling.
            stream = await self.client.post(
                "/chat/completions",
                body=body,
                cast_to=object,
                stream=True,
                stream_cls=AsyncStream[object],
            )
        except caught() as error:
            raise classify(error) from error
        usage: Usage | None = None
        refusal = ""
        try:
            async for chunk in stream:
                if not isinstance(chunk, dict):
                    continue
                if chunk.get("usage"):
                    usage = _usage(chunk["usage"])
                for choice in chunk.get("choices") or ():
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        yield TextDelta(delta["content"])
                    refusal += delta.get("refusal") or ""
        except caught() as error:
            raise classify(error) from error
        finally:
            await stream.close()
        if refusal:
            raise NonRetryableProviderError(refusal, PROVIDER, None, "content_policy")
        if usage is None:
            raise RetryableProviderError(
                "the stream ended without usage", PROVIDER, None, "incomplete_stream"
            )
        yield usage

    async def moderate(self, text: str) -> ModerationResult:
        try:
            response = await self.client.post(
                "/moderations",
                body={"input": text, "model": MODERATION_MODEL},
                cast_to=object,  # the decoded JSON: only two fields are read
            )
        except caught() as error:
            raise classify(error) from error
        results = response.get("results", []) if isinstance(response, dict) else []
        flagged = [result for result in results if result.get("flagged")]
        categories = sorted(
            {name for result in flagged for name, on in (result.get("categories") or {}).items() if on}
        )
        return ModerationResult(flagged=bool(flagged), categories=categories)


def _content(message: ChatMessage) -> str | list[dict[str, Any]]:
    """Text, or text and ``image_url`` parts (data URLs) for a message with images."""
    if not message.images:
        return message.content
    parts: list[dict[str, Any]] = [{"type": "text", "text": message.content}]
    parts += [{"type": "image_url", "image_url": {"url": image.data_url()}} for image in message.images]
    return parts


def _usage(raw: dict[str, Any]) -> Usage:
    details = raw.get("prompt_tokens_details") or {}
    return Usage(
        int(raw.get("prompt_tokens") or 0),
        int(raw.get("completion_tokens") or 0),
        int(details.get("cached_tokens") or 0),
    )
