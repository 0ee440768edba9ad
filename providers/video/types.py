"""Plain data for video providers: what is asked and a render's state in the pipeline's words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VideoRequest:
    provider_model: str
    prompt: str
    duration_s: int
    aspect_ratio: str  # the provider's ratio parameter (from the catalog)
    resolution: str = "720p"
    first_frame: bytes | None = None  # PNG/JPEG of the first frame (image-to-video)
    first_frame_type: str = "image/png"
    idempotency_key: str | None = None  # our job id
    webhook_url: str | None = None  # Replicate only


@dataclass(frozen=True)
class RenderState:
    """A provider render as last seen: ``status`` queued | running | succeeded | failed |
    canceled; ``output`` what to download (a URL or Veo file uri); ``error`` our error code."""

    id: str
    status: str
    output: str | None = None
    progress: float | None = None  # 0..1 where the provider says
    error: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")
