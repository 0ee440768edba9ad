"""Gemini image output ("Nano Banana"): ``generate_content`` with ``response_modalities=["IMAGE"]``,
the aspect ratio from the chosen size, input images as ``inlineData`` parts for edits. Gemini
makes one image per call, so ``n`` images are ``n`` calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.image_catalog import ImageModel
from providers.images.types import ContentRefused, GeneratedImage, ImageRequest
from providers.llm.google_chat import caught, classify

if TYPE_CHECKING:
    from google.genai import Client

PROVIDER = "google"
REFUSALS = {"IMAGE_SAFETY", "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_PROHIBITED_CONTENT"}


class GoogleImages:
    def __init__(self, client: Client) -> None:
        self.client = client

    async def generate(self, model: ImageModel, request: ImageRequest) -> list[GeneratedImage]:
        return [await self._one(model, request) for _ in range(request.n)]

    async def _one(self, model: ImageModel, request: ImageRequest) -> GeneratedImage:
        from google.genai import types

        parts = [types.Part.from_bytes(data=data, mime_type="image/png") for data in request.inputs]
        parts.append(types.Part(text=request.prompt))
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=model.sizes[request.size]),
        )
        try:
            response = await self.client.aio.models.generate_content(
                model=model.id, contents=types.Content(role="user", parts=parts), config=config
            )
        except caught() as error:
            raise classify(error) from error
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            raise ContentRefused(f"prompt blocked: {feedback.block_reason}", PROVIDER)
        for candidate in response.candidates or []:
            reason = candidate.finish_reason.value if candidate.finish_reason is not None else ""
            if reason in REFUSALS:
                raise ContentRefused(f"image refused: {reason}", PROVIDER)
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.inline_data is not None and part.inline_data.data:
                    return GeneratedImage(part.inline_data.data, part.inline_data.mime_type or "image/png")
        from providers.llm.errors import RetryableProviderError

        raise RetryableProviderError("no image in the reply", PROVIDER, None, "no_image")
