"""Shapes of the image studio API."""

from __future__ import annotations

from pydantic import BaseModel


class ImageModelPublic(BaseModel):
    id: str
    provider: str
    name: str
    sizes: list[str]
    default_size: str
    generates: bool
    edits: bool
    masks: bool
    max_outputs: int
    cost: int  # images units per output image


class ImageModelList(BaseModel):
    models: list[ImageModelPublic]
