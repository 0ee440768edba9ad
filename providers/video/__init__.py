"""Video providers: Google Veo, Runway and Replicate behind ``VideoClient``."""

from providers.video.client import VideoClient
from providers.video.types import RenderState, VideoRequest

__all__ = ["RenderState", "VideoClient", "VideoRequest"]
