"""``VideoClient``: one interface over the three video providers (Veo, Runway, Replicate),
built from settings. SDKs are imported on first use, in a thread (an import takes a second or
two and would stall the worker's event loop)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Protocol

from core.settings import Settings
from core.video_catalog import VideoProvider
from providers.images.client import ImageClient
from providers.sdk_imports import import_in_thread
from providers.video.types import RenderState, VideoRequest

if TYPE_CHECKING:
    from runwayml import AsyncRunwayML

DEFAULT_TIMEOUT = 120.0
SDK_MODULES: dict[VideoProvider, tuple[str, ...]] = {
    "google": ("google.genai", "google.genai.types", "providers.video.veo"),
    "runway": ("runwayml", "providers.video.runway"),
    "replicate": ("replicate.client", "providers.video.replicate_video"),
}


class VideoAdapter(Protocol):
    async def submit(self, request: VideoRequest) -> str: ...
    async def get(self, job_id: str) -> RenderState: ...
    async def cancel(self, job_id: str) -> bool: ...
    async def download(self, output: str, destination: IO[bytes]) -> str: ...


class VideoClient:
    def __init__(self, settings: Settings, images: ImageClient, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.images = images  # Google and Replicate clients, the HTTP client, the webhook secret
        self.timeout = timeout
        self._runway: AsyncRunwayML | None = None
        self._loaded: set[VideoProvider] = set()

    def runway_client(self) -> AsyncRunwayML:
        if self._runway is None:
            from runwayml import AsyncRunwayML

            self._runway = AsyncRunwayML(
                api_key=self.settings.runway_api_key.get_secret_value(),
                base_url=self.settings.runway_base_url,
                max_retries=0,
                timeout=self.timeout,
            )
        return self._runway

    async def adapter(self, provider: VideoProvider) -> VideoAdapter:
        if provider not in self._loaded:
            await import_in_thread(SDK_MODULES[provider])
            self._loaded.add(provider)
        if provider == "google":
            from providers.video.veo import VeoVideos

            return VeoVideos(self.images.google_client())
        if provider == "runway":
            from providers.video.runway import RunwayVideos

            return RunwayVideos(self.runway_client(), self.images.http())
        from providers.video.replicate_video import ReplicateVideos

        return ReplicateVideos(self.images)

    async def aclose(self) -> None:
        if self._runway is not None:
            await self._runway.close()
            self._runway = None
