"""Google Gemini through google-genai (generate_content_stream; response JSON schema).

The SDK is imported on first use (``LLMClient.google_client``), not with this module."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import httpx

from core.catalog import ModelInfo
from providers.llm.errors import (
    TRANSPORT_ERRORS,
    NonRetryableProviderError,
    ProviderError,
    RetryableProviderError,
    by_status,
    retry_after_from,
)
from providers.llm.types import ChatEvent, ChatRequest, TextDelta, Usage

if TYPE_CHECKING:
    from google.genai import Client, types

PROVIDER = "google"
BLOCKED = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION"}
DELAY = re.compile(r"^([0-9.]+)s$")


@functools.cache
def caught() -> tuple[type[Exception], ...]:
    """The exceptions a call can raise: the SDK's and the transport's."""
    from google.genai import errors

    return (errors.APIError, *TRANSPORT_ERRORS)


def classify(error: Exception) -> ProviderError:
    from google.genai import errors

    if isinstance(error, errors.APIError):
        status = int(error.code) if error.code else 500
        message = str(error.message or error)
        code = str(error.status) if error.status else None
        details = _details(error.details)
        if status == 429 and _daily_quota(details):
            return NonRetryableProviderError(message, PROVIDER, status, "insufficient_quota")
        headers = getattr(error.response, "headers", None)
        retry_after = _retry_delay(details)
        if retry_after is None:
            retry_after = retry_after_from(dict(headers) if headers is not None else None)
        return by_status(message, PROVIDER, status, code, retry_after)
    if isinstance(error, TRANSPORT_ERRORS):
        return RetryableProviderError(str(error) or "connection error", PROVIDER, None, "connection_error")
    return RetryableProviderError(str(error), PROVIDER, None, "unexpected_error")


def _details(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list) and body:
        body = body[0]
    inner = body.get("error", body) if isinstance(body, dict) else {}
    details = inner.get("details") if isinstance(inner, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    for detail in details:
        match = DELAY.match(str(detail.get("retryDelay", "")))
        if str(detail.get("@type", "")).endswith("RetryInfo") and match:
            return float(match.group(1))
    return None


def _daily_quota(details: list[dict[str, Any]]) -> bool:
    for detail in details:
        if str(detail.get("@type", "")).endswith("QuotaFailure"):
            return any("PerDay" in str(v.get("quotaId", "")) for v in detail.get("violations") or [])
    return False


_OPEN_RESPONSES: ContextVar[list[httpx.Response] | None] = ContextVar("pulse_google_responses", default=None)


class TrackingAsyncClient(httpx.AsyncClient):
    """An httpx client that hands each response to the stream that asked for it.

    google-genai nests its stream generators without closing the inner ones, so an early
    ``aclose()`` would leave the HTTP response open until garbage collection. Tracking the
    response lets ``GoogleChat.stream`` close it at once, which closes the connection.
    """

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await super().send(request, **kwargs)
        tracked = _OPEN_RESPONSES.get()
        if tracked is not None:
            tracked.append(response)
        return response


class GoogleChat:
    def __init__(self, client: Client) -> None:
        self.client = client

    def config(self, request: ChatRequest) -> types.GenerateContentConfig:
        from google.genai import types

        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        config = types.GenerateContentConfig(max_output_tokens=request.max_output_tokens)
        if system:
            config.system_instruction = system
        if request.temperature is not None:
            config.temperature = request.temperature
        if request.json_schema is not None:
            config.response_mime_type = "application/json"
            config.response_json_schema = request.json_schema
        return config

    def contents(self, request: ChatRequest) -> list[types.Content]:
        from google.genai import types

        return [
            types.Content(
                role="model" if m.role == "assistant" else "user",
                parts=[
                    types.Part(text=m.content),
                    *(
                        types.Part.from_bytes(data=image.data, mime_type=image.media_type)
                        for image in m.images
                    ),
                ],
            )
            for m in request.messages
            if m.role != "system"
        ]

    async def stream(self, model: ModelInfo, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        responses: list[httpx.Response] = []
        _OPEN_RESPONSES.set(responses)
        try:
            async for event in self._events(model, request):
                yield event
        finally:
            _OPEN_RESPONSES.set(None)
            for response in responses:
                with contextlib.suppress(Exception):
                    await response.aclose()

    async def _events(self, model: ModelInfo, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        try:
            stream = await self.client.aio.models.generate_content_stream(
                model=model.id, contents=self.contents(request), config=self.config(request)
            )
        except caught() as error:
            raise classify(error) from error
        usage: Usage | None = None
        try:
            async for chunk in stream:
                block = chunk.prompt_feedback.block_reason if chunk.prompt_feedback else None
                if block:
                    raise NonRetryableProviderError(
                        f"prompt blocked: {block}", PROVIDER, None, "content_policy"
                    )
                for candidate in chunk.candidates or []:
                    for part in (candidate.content.parts if candidate.content else None) or []:
                        if part.text and not part.thought:
                            yield TextDelta(part.text)
                    reason = candidate.finish_reason.value if candidate.finish_reason else None
                    if reason in BLOCKED:
                        raise NonRetryableProviderError(
                            f"reply blocked: {reason}", PROVIDER, None, "content_policy"
                        )
                    if reason and chunk.usage_metadata is not None:
                        usage = _usage(chunk.usage_metadata)
        except caught() as error:
            raise classify(error) from error
        finally:
            await _aclose(stream)
        if usage is None:
            raise RetryableProviderError(
                "the stream ended without usage", PROVIDER, None, "incomplete_stream"
            )
        yield usage


def _usage(meta: types.GenerateContentResponseUsageMetadata) -> Usage:
    output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return Usage(meta.prompt_token_count or 0, output, meta.cached_content_token_count or 0)


async def _aclose(iterator: object) -> None:
    closer: Any = getattr(iterator, "aclose", None)
    if closer is not None:
        await closer()
