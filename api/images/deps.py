"""The image providers client of this process (built with the worker deps in the lifespan)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.deps import StateDep
from providers.images import ImageClient


async def get_images(state: StateDep) -> ImageClient:
    images: ImageClient = state.extras["images"]
    return images


ImagesDep = Annotated[ImageClient, Depends(get_images)]
