"""The image studio API: ``GET /v1/images/models`` (the image model catalog)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import LocaleDep, SettingsDep
from api.images.schemas import ImageModelList, ImageModelPublic
from core.image_catalog import ImageModel, available_image_models

router = APIRouter(prefix="/v1/images", tags=["images"])


def model_public(model: ImageModel, locale: str) -> ImageModelPublic:
    return ImageModelPublic(
        id=model.id,
        provider=model.provider,
        name=model.display_name(locale),
        sizes=list(model.sizes),
        default_size=model.default_size,
        generates=model.generates,
        edits=model.edits,
        masks=model.masks,
        max_outputs=model.max_outputs,
        cost=model.cost,
    )


@router.get("/models", response_model=ImageModelList)
async def list_image_models(settings: SettingsDep, locale: LocaleDep) -> ImageModelList:
    return ImageModelList(models=[model_public(m, locale) for m in available_image_models(settings)])
