"""The image model catalog, beside the chat catalog: which image models the studio offers,
the sizes each makes, whether it edits (and takes a mask), and its cost in ``images`` units per
output image.

Sizes are the pixel sizes the person chooses; for providers that take an aspect ratio
(Gemini, Replicate's FLUX) each size maps to the ratio that produces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.catalog import ModelUnavailable
from core.settings import Settings

ImageProvider = Literal["openai", "google", "replicate"]
DEFAULT_IMAGE_MODEL = "gpt-image-1"


@dataclass(frozen=True)
class ImageModel:
    id: str
    provider: ImageProvider
    display_name_ar: str
    display_name_en: str
    sizes: dict[str, str]  # "WxH" -> the provider's size or aspect-ratio parameter
    generates: bool  # makes images from a prompt alone
    edits: bool  # takes input images
    masks: bool  # takes a mask with an edit
    max_outputs: int  # n per job
    cost: int  # images units per output image
    async_jobs: bool = False  # a long provider job: submit, then await a webhook or poll
    qualities: tuple[str, ...] = ("auto",)  # what the provider takes; "auto" is its own choice

    def display_name(self, locale: str | None) -> str:
        return self.display_name_en if locale == "en" else self.display_name_ar

    @property
    def default_size(self) -> str:
        return next(iter(self.sizes))


GEMINI_SIZES = {
    "1024x1024": "1:1",
    "1344x768": "16:9",
    "768x1344": "9:16",
    "1184x864": "4:3",
    "864x1184": "3:4",
}
FLUX_SIZES = {
    "1024x1024": "1:1",
    "1344x768": "16:9",
    "768x1344": "9:16",
    "1216x832": "3:2",
    "832x1216": "2:3",
}

IMAGE_MODELS: dict[str, ImageModel] = {
    model.id: model
    for model in (
        ImageModel(
            "gpt-image-1",
            "openai",
            "GPT Image 1",
            "GPT Image 1",
            {"1024x1024": "1024x1024", "1536x1024": "1536x1024", "1024x1536": "1024x1536"},
            generates=True,
            edits=True,
            masks=True,
            max_outputs=4,
            cost=1,
            qualities=("auto", "low", "medium", "high"),
        ),
        ImageModel(
            "gemini-2.5-flash-image",
            "google",
            "Nano Banana (Gemini 2.5 Flash Image)",
            "Nano Banana (Gemini 2.5 Flash Image)",
            GEMINI_SIZES,
            generates=True,
            edits=True,
            masks=False,
            max_outputs=4,
            cost=1,
        ),
        ImageModel(
            "black-forest-labs/flux-schnell",
            "replicate",
            "FLUX schnell",
            "FLUX schnell",
            FLUX_SIZES,
            generates=True,
            edits=False,
            masks=False,
            max_outputs=4,
            cost=1,
            async_jobs=True,
        ),
        ImageModel(
            "black-forest-labs/flux-kontext-pro",
            "replicate",
            "FLUX Kontext Pro (تعديل)",
            "FLUX Kontext Pro (edit)",
            FLUX_SIZES,
            generates=False,
            edits=True,
            masks=False,
            max_outputs=1,
            cost=1,
            async_jobs=True,
        ),
    )
}


def image_provider_enabled(provider: ImageProvider, settings: Settings) -> bool:
    enabled: bool = getattr(settings, f"{provider}_enabled")
    return enabled


def resolve_image_model(model_id: str, settings: Settings) -> ImageModel:
    model = IMAGE_MODELS.get(model_id.strip())
    if model is None or not image_provider_enabled(model.provider, settings):
        raise ModelUnavailable(model_id)
    return model


def available_image_models(settings: Settings) -> list[ImageModel]:
    return [m for m in IMAGE_MODELS.values() if image_provider_enabled(m.provider, settings)]
