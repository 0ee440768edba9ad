"""Image providers: OpenAI gpt-image-1, Gemini image output and Replicate predictions."""

from providers.images.client import ImageClient
from providers.images.types import ContentRefused, GeneratedImage, ImageRequest, PredictionState
from providers.images.webhooks import WebhookRejected, verify_replicate_webhook

__all__ = [
    "ContentRefused",
    "GeneratedImage",
    "ImageClient",
    "ImageRequest",
    "PredictionState",
    "WebhookRejected",
    "verify_replicate_webhook",
]
