"""Shapes of the image studio API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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


MAX_INLINE_B64 = 11_200_000  # ~8 MB of image bytes once decoded


class ImageCreate(BaseModel):
    prompt: str = Field(min_length=1, max_length=4000)
    model: str = Field("gpt-image-1", min_length=1, max_length=64)
    size: str | None = Field(None, max_length=16)
    n: int = Field(1, ge=1, le=10)
    input_file_ids: list[str] = Field(default_factory=list, max_length=4)  # uploaded files (ready)
    mask_file_id: str | None = Field(None, max_length=32)
    source_image_id: str | None = Field(None, max_length=32)  # a gallery image to edit
    image_base64: str | None = Field(None, max_length=MAX_INLINE_B64)  # an image chosen in the page
    mask_base64: str | None = Field(None, max_length=MAX_INLINE_B64)  # a mask drawn in the page


class ImageJobCreated(BaseModel):
    job_id: str
    events_url: str
    status_url: str


class ImageOut(BaseModel):
    id: str
    job_id: str
    model: str
    prompt: str
    width: int
    height: int
    content_type: str
    size: int
    url: str  # short-lived signed link (inline)
    download_url: str  # short-lived signed link (attachment)
    thumb_url: str
    source_image_id: str | None
    created_at: datetime


class ImagePage(BaseModel):
    images: list[ImageOut]
    next_before: datetime | None  # pass as ?before= for the next page
