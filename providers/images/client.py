"""``ImageClient``: one interface over the three image providers, built from settings.

SDK retries are off (OpenAI ``max_retries=0``; google-genai retries nothing without retry
options; Replicate's transport turned down to one attempt): Temporal owns retries. SDKs are
imported on first use, as in ``providers.llm``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import httpx

from core.image_catalog import ImageModel, ImageProvider, resolve_image_model
from core.settings import Settings
from providers.images.types import GeneratedImage, ImageRequest, PredictionState
from providers.sdk_imports import import_in_thread

if TYPE_CHECKING:
    import openai
    from google import genai
    from replicate.client import Client as ReplicateClient

    from providers.images.replicate_images import ReplicateImages

DEFAULT_TIMEOUT = 180.0  # seconds; an image takes tens of seconds at the real providers


class ImageAdapter(Protocol):
    async def generate(self, model: ImageModel, request: ImageRequest) -> list[GeneratedImage]: ...


class ImageClient:
    def __init__(self, settings: Settings, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._openai: openai.AsyncOpenAI | None = None
        self._google: genai.Client | None = None
        self._replicate: ReplicateClient | None = None
        self._http: httpx.AsyncClient | None = None
        self._webhook_secret: str | None = None
        self._loaded: set[ImageProvider] = set()

    def resolve(self, model_id: str) -> ImageModel:
        return resolve_image_model(model_id, self.settings)

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.timeout, follow_redirects=True)
        return self._http

    def openai_client(self) -> openai.AsyncOpenAI:
        if self._openai is None:
            import openai

            self._openai = openai.AsyncOpenAI(
                api_key=self.settings.openai_api_key.get_secret_value(),
                base_url=self.settings.openai_base_url,
                max_retries=0,
                timeout=self.timeout,
            )
        return self._openai

    def google_client(self) -> genai.Client:
        if self._google is None:
            from google import genai
            from google.genai import types

            options = types.HttpOptions(
                base_url=self.settings.google_base_url, api_version="v1beta", timeout=int(self.timeout * 1000)
            )
            self._google = genai.Client(
                api_key=self.settings.google_api_key.get_secret_value(), http_options=options
            )
        return self._google

    def replicate_client(self) -> ReplicateClient:
        if self._replicate is None:
            from replicate.client import Client

            from providers.images.replicate_images import raise_with_retry_after

            client = Client(
                api_token=self.settings.replicate_api_token.get_secret_value(),
                base_url=self.settings.replicate_base_url,
                timeout=httpx.Timeout(self.timeout, connect=10.0),
                event_hooks={"response": [raise_with_retry_after]},  # the async client's only
            )
            client._async_client._transport.max_attempts = 1  # type: ignore[attr-defined]  # SDK retries off
            self._replicate = client
        return self._replicate

    def replicate(self) -> ReplicateImages:
        from providers.images.replicate_images import ReplicateImages

        return ReplicateImages(self.replicate_client(), self.http())

    def adapter(self, provider: ImageProvider) -> ImageAdapter:
        if provider == "openai":
            from providers.images.openai_images import OpenAIImages

            return OpenAIImages(self.openai_client())
        if provider == "google":
            from providers.images.google_images import GoogleImages

            return GoogleImages(self.google_client())
        return self.replicate()

    async def _load(self, provider: ImageProvider) -> None:
        """Import a provider's SDK in a thread the first time (an import takes a second or two
        and would stall every other task on this event loop meanwhile)."""
        if provider not in self._loaded:
            await import_in_thread(SDK_MODULES[provider])
            self._loaded.add(provider)

    async def generate(self, request: ImageRequest) -> list[GeneratedImage]:
        """Images for a request, whichever provider; raises ``ProviderError`` subclasses."""
        model = self.resolve(request.model)
        await self._load(model.provider)
        return await self.adapter(model.provider).generate(model, request)

    # Long provider jobs (Replicate): submit once, then await by webhook or polling.
    async def submit(self, request: ImageRequest, webhook_url: str | None) -> str:
        model = self.resolve(request.model)
        await self._load("replicate")
        return await self.replicate().submit(model, request, webhook_url)

    async def prediction(self, prediction_id: str) -> PredictionState:
        return await self.replicate().get(prediction_id)

    async def cancel(self, prediction_id: str) -> None:
        await self.replicate().cancel(prediction_id)

    async def download(self, url: str) -> tuple[bytes, str]:
        return await self.replicate().download(url)

    async def webhook_secret(self) -> str:
        """The signing secret: from settings, else fetched from Replicate once."""
        configured = self.settings.replicate_webhook_secret.get_secret_value()
        if configured:
            return configured
        if self._webhook_secret is None:
            self._webhook_secret = await self.replicate().webhook_secret()
        return self._webhook_secret

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
        if self._replicate is not None:
            await self._replicate._async_client.aclose()
        if self._http is not None:
            await self._http.aclose()
        self._openai = self._replicate = self._http = None
        self._google = None


SDK_MODULES: dict[ImageProvider, tuple[str, ...]] = {
    "openai": ("openai", "providers.images.openai_images"),
    "google": ("google.genai", "google.genai.types", "providers.images.google_images"),
    "replicate": ("replicate.client", "replicate.webhook", "providers.images.replicate_images"),
}
