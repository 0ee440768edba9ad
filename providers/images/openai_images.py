"""OpenAI gpt-image-1: ``images.generate`` and ``images.edit`` (multipart, image + mask)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from core.image_catalog import ImageModel
from providers.images.types import ContentRefused, GeneratedImage, ImageRequest
from providers.llm.errors import ProviderError
from providers.llm.openai_chat import caught, classify

if TYPE_CHECKING:
    import openai

PROVIDER = "openai"
REFUSAL_CODES = {"moderation_blocked", "content_policy_violation"}


def classify_image_error(error: Exception) -> ProviderError:
    classified = classify(error)
    if classified.code in REFUSAL_CODES:
        return ContentRefused(classified.message, PROVIDER, classified.status, "content_refused")
    return classified


class OpenAIImages:
    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.client = client

    async def generate(self, model: ImageModel, request: ImageRequest) -> list[GeneratedImage]:
        size: Any = model.sizes[request.size]
        quality: Any = {"quality": request.quality} if request.quality != "auto" else {}
        try:
            if request.inputs:
                files = [(f"input-{i}.png", data, "image/png") for i, data in enumerate(request.inputs)]
                params: dict[str, Any] = {"image": files if len(files) > 1 else files[0]}
                if request.mask is not None:
                    params["mask"] = ("mask.png", request.mask, "image/png")
                result = await self.client.images.edit(
                    model=model.id, prompt=request.prompt, n=request.n, size=size, **params, **quality
                )
            else:
                result = await self.client.images.generate(
                    model=model.id,
                    prompt=request.prompt,
                    n=request.n,
                    size=size,
                    output_format="png",
                    **quality,
                )
        except caught() as error:
            raise classify_image_error(error) from error
        return [
            GeneratedImage(base64.b64decode(item.b64_json), "image/png")
            for item in result.data or []
            if item.b64_json
        ]
