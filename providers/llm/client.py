"""``LLMClient``: one interface over the three providers, built from settings.

SDK retries are off (``max_retries=0``; google-genai retries nothing without retry options):
Temporal owns retries. Closing a ``stream_chat`` iterator early closes the upstream stream.

Each SDK is imported when its provider is first called, never at import time: together they
weigh ~100 MB of resident memory, and a process pays only for the providers it uses.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from core.catalog import ModelInfo, Provider, resolve_model
from core.settings import Settings
from providers.llm.errors import RetryableProviderError
from providers.llm.types import ChatEvent, ChatRequest, ModerationResult, TextDelta, Usage
from providers.sdk_imports import import_in_thread

if TYPE_CHECKING:
    import anthropic
    import openai
    from google import genai

    from providers.llm.google_chat import TrackingAsyncClient

log = structlog.get_logger(__name__)
DEFAULT_TIMEOUT = 120.0  # seconds; read timeout between stream chunks included


class ChatAdapter(Protocol):
    def stream(self, model: ModelInfo, request: ChatRequest) -> AsyncIterator[ChatEvent]: ...


class LLMClient:
    def __init__(self, settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._openai: openai.AsyncOpenAI | None = None
        self._anthropic: anthropic.AsyncAnthropic | None = None
        self._google: genai.Client | None = None
        self._google_http: TrackingAsyncClient | None = None
        self._loaded: set[Provider] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMClient:
        return cls(settings)

    # SDK clients, built (and their SDKs imported) on first use. OpenAI and Anthropic run on the
    # SDKs' aiohttp transport (their ``aiohttp`` extra): same SDK, same errors (httpx-aiohttp maps
    # them to httpx's), about a fifth less CPU in the worker than httpx's own transport at 50
    # concurrent streams. Google's SDK keeps its httpx client (it tracks responses for Stop).
    def openai_client(self) -> openai.AsyncOpenAI:
        if self._openai is None:
            import openai

            self._openai = openai.AsyncOpenAI(
                api_key=self.settings.openai_api_key.get_secret_value(),
                base_url=self.settings.openai_base_url,
                max_retries=0,
                timeout=self.timeout,
                http_client=openai.DefaultAioHttpClient(timeout=self.timeout),
            )
        return self._openai

    def anthropic_client(self) -> anthropic.AsyncAnthropic:
        if self._anthropic is None:
            import anthropic

            self._anthropic = anthropic.AsyncAnthropic(
                api_key=self.settings.anthropic_api_key.get_secret_value(),
                base_url=self.settings.anthropic_base_url,
                max_retries=0,
                timeout=self.timeout,
                http_client=anthropic.DefaultAioHttpClient(timeout=self.timeout),
            )
        return self._anthropic

    def google_client(self) -> genai.Client:
        if self._google is None:
            from google import genai
            from google.genai import types as genai_types

            from providers.llm.google_chat import TrackingAsyncClient

            timeout_ms = int(self.timeout * 1000)
            self._google_http = TrackingAsyncClient(timeout=self.timeout)
            options = genai_types.HttpOptions(
                base_url=self.settings.google_base_url,
                api_version="v1beta",
                timeout=timeout_ms,
                httpx_async_client=self._google_http,
            )
            self._google = genai.Client(
                api_key=self.settings.google_api_key.get_secret_value(), http_options=options
            )
        return self._google

    def adapter(self, provider: Provider) -> ChatAdapter:
        if provider == "openai":
            from providers.llm.openai_chat import OpenAIChat

            return OpenAIChat(self.openai_client())
        if provider == "anthropic":
            from providers.llm.anthropic_chat import AnthropicChat

            return AnthropicChat(self.anthropic_client())
        from providers.llm.google_chat import GoogleChat

        return GoogleChat(self.google_client())

    async def _load(self, provider: Provider) -> None:
        """Import a provider's SDK in a thread the first time: an import takes a second or two
        and would otherwise stall every request on this event loop meanwhile."""
        if provider not in self._loaded:
            await import_in_thread(SDK_MODULES[provider])
            self._loaded.add(provider)

    async def warm(self) -> list[Provider]:
        """Make each enabled provider ready before its first turn (docs/chat.md "Cold start"):
        import its SDK (in a thread), build its client and open its connection pool with the
        models list, which providers don't bill. A provider that can't be reached stays cold,
        and its first turn pays the price instead; the warm-up never fails the process."""
        warmed: list[Provider] = []
        for provider in PROVIDERS:
            if not getattr(self.settings, f"{provider}_enabled"):
                continue
            try:
                await self._load(provider)
                self.adapter(provider)  # builds the client (and its HTTP session)
                await asyncio.wait_for(self._list_models(provider), timeout=10)
            except Exception as error:  # noqa: BLE001 - a warm-up is best effort
                log.warning("llm.warm_failed", provider=provider, error=type(error).__name__)
                continue
            warmed.append(provider)
        return warmed

    async def _list_models(self, provider: Provider) -> None:
        if provider == "openai":
            await self.openai_client().models.list()
        elif provider == "anthropic":
            await self.anthropic_client().models.list()
        else:
            await self.google_client().aio.models.list()
            _warm_google_types(self)

    def resolve(self, request: ChatRequest) -> ModelInfo:
        return resolve_model(request.model, self.settings)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        """Text deltas, then exactly one final ``Usage``.

        Raises ``ModelUnavailable`` for an unknown or disabled model and a ``ProviderError``
        subclass for provider failures.
        """
        model = self.resolve(request)
        capped = min(request.max_output_tokens, model.max_output_tokens)
        if capped != request.max_output_tokens:
            request = dataclasses.replace(request, max_output_tokens=capped)
        await self._load(model.provider)
        events = self.adapter(model.provider).stream(model, request)
        try:
            async for event in events:
                yield event
        finally:
            await _aclose(events)

    async def complete(self, request: ChatRequest) -> tuple[str, Usage]:
        parts: list[str] = []
        usage: Usage | None = None
        async for event in self.stream_chat(request):
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                usage = event
        if usage is None:  # adapters always end with usage; kept for type narrowing
            raise RetryableProviderError("no usage reported", self.resolve(request).provider)
        return "".join(parts), usage

    async def moderate(self, text: str) -> ModerationResult:
        """OpenAI moderations; never flags when moderation or OpenAI is switched off."""
        if not (self.settings.moderation_enabled and self.settings.openai_enabled):
            return ModerationResult(flagged=False, categories=[])
        await self._load("openai")
        from providers.llm.openai_chat import OpenAIChat

        return await OpenAIChat(self.openai_client()).moderate(text)

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
        if self._anthropic is not None:
            await self._anthropic.close()
        if self._google is not None:
            closer: Any = getattr(self._google.aio, "aclose", None)
            if closer is not None:
                await closer()
        if self._google_http is not None:
            await self._google_http.aclose()
        self._openai = self._anthropic = self._google = None
        self._google_http = None


async def _aclose(iterator: object) -> None:
    closer: Any = getattr(iterator, "aclose", None)
    if closer is not None:
        await closer()


PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic", "google")
SDK_MODULES: dict[Provider, tuple[str, ...]] = {
    "openai": ("openai", "openai.types", "openai.types.chat", "providers.llm.openai_chat"),
    "anthropic": ("anthropic", "providers.llm.anthropic_chat"),
    "google": ("google.genai", "google.genai.types", "providers.llm.google_chat"),
}


def _warm_google_types(client: LLMClient) -> None:
    """google-genai's pydantic types build their validators on first use (~0.3 s): build the
    request and parse a response chunk once, offline."""
    from google.genai import types

    from providers.llm.google_chat import GoogleChat
    from providers.llm.types import ChatMessage

    adapter = GoogleChat(client.google_client())
    sample = ChatRequest(
        model="warm", messages=[ChatMessage(role="user", content="warm")], max_output_tokens=1
    )
    adapter.config(sample)
    adapter.contents(sample)
    chunk = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "warm"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
    }
    types.GenerateContentResponse.model_validate(chunk)
