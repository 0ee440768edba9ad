"""Shapes of the video studio API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class VideoModelPublic(BaseModel):
    id: str
    provider: str
    name: str
    durations: list[int]  # seconds
    default_duration: int
    aspect_ratios: list[str]
    default_aspect_ratio: str
    resolution: str
    text_to_video: bool
    image_to_video: bool
    cost: int  # videos units per video


class VideoModelList(BaseModel):
    models: list[VideoModelPublic]


class VideoCreate(BaseModel):
    prompt: str = Field(min_length=1, max_length=2000)
    model: str = Field("veo-3.0-fast-generate-001", min_length=1, max_length=64)
    duration: int | None = Field(None, ge=1, le=60)
    aspect_ratio: str | None = Field(None, max_length=8)
    first_frame_file_id: str | None = Field(None, max_length=32)  # an uploaded, ready image
    first_frame_image_id: str | None = Field(None, max_length=32)  # a gallery image


class VideoJobCreated(BaseModel):
    job_id: str
    events_url: str
    status_url: str


class VideoError(BaseModel):
    code: str
    message: str


class VideoOut(BaseModel):
    id: str  # the job id
    status: str  # pending | running | succeeded | failed | cancelled
    model: str
    provider: str
    prompt: str
    duration_s: int  # requested
    aspect_ratio: str
    events_url: str
    error: VideoError | None = None
    url: str | None = None  # short-lived signed link (inline, HTTP range requests work)
    download_url: str | None = None
    poster_url: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None  # read from the stored file
    created_at: datetime


class VideoPage(BaseModel):
    videos: list[VideoOut]
    next_before: datetime | None
