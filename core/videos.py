"""The video studio's domain: requests checked against the catalog, the video rows
(owner-scoped, soft-deleted, shown once stored), the provider job id recorded once, and what a
stored file says about itself (duration, size, poster frame) read with PyAV."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, ValidationFailed
from core.models import Job, Video
from core.models.base import utcnow
from core.video_catalog import VideoModel

MAX_PROMPT_CHARS = 2000
PAGE_MAX = 60
POSTER_WIDTH = 640


class VideoNotFound(NotFound):
    code = "video_not_found"
    message = "This video was not found."


class InvalidVideoRequest(ValidationFailed):
    code = "invalid_video_request"
    message = "This video request is not valid."

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message, **params)  # the English msgid, translated when answered


class InvalidVideoFile(ValueError):
    """The provider's file is not a video we can read."""


@dataclass(frozen=True)
class VideoSpec:
    model: VideoModel
    prompt: str
    duration_s: int
    aspect_ratio: str  # ours ("16:9")
    from_image: bool


def check_request(
    model: VideoModel, prompt: str, duration: int | None, aspect_ratio: str | None, *, from_image: bool
) -> VideoSpec:
    prompt = prompt.strip()
    if not prompt:
        raise InvalidVideoRequest("Write a prompt that describes the video.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidVideoRequest(
            "The prompt is too long (at most {limit} characters).", limit=MAX_PROMPT_CHARS
        )
    seconds = duration or model.default_duration
    if seconds not in model.durations:
        allowed = ", ".join(str(d) for d in model.durations)
        raise InvalidVideoRequest("This model makes videos of {allowed} seconds.", allowed=allowed)
    ratio = aspect_ratio or model.default_aspect_ratio
    if ratio not in model.aspect_ratios:
        raise InvalidVideoRequest("This model does not make videos of that aspect ratio.")
    if from_image and not model.image_to_video:
        raise InvalidVideoRequest("This model cannot start from an image; choose one that can.")
    if not from_image and not model.text_to_video:
        raise InvalidVideoRequest("This model starts from an image; add a first frame.")
    return VideoSpec(model, prompt, seconds, ratio, from_image)


# --- rows ---


async def create_video(session: AsyncSession, job_id: str, user_id: str, spec: VideoSpec) -> Video:
    row = Video(
        id=job_id,
        user_id=user_id,
        provider=spec.model.provider,
        model=spec.model.id,
        prompt=spec.prompt,
        duration_s=spec.duration_s,
        aspect_ratio=spec.aspect_ratio,
    )
    session.add(row)
    await session.flush()
    return row


async def provider_job_for(session: AsyncSession, job_id: str) -> str | None:
    query = select(Video.provider_job_id).where(Video.id == job_id)
    return (await session.execute(query)).scalar_one_or_none()


async def record_provider_job(session: AsyncSession, job_id: str, provider_job_id: str) -> None:
    await session.execute(update(Video).where(Video.id == job_id).values(provider_job_id=provider_job_id))


@dataclass(frozen=True)
class StoredVideo:
    key: str
    poster_key: str
    size: int
    width: int
    height: int
    duration_ms: int


async def record_stored(session: AsyncSession, job_id: str, stored: StoredVideo) -> None:
    values = {
        "key": stored.key,
        "poster_key": stored.poster_key,
        "size": stored.size,
        "width": stored.width,
        "height": stored.height,
        "duration_ms": stored.duration_ms,
    }
    await session.execute(update(Video).where(Video.id == job_id).values(**values))


async def owned_video(session: AsyncSession, user_id: str, video_id: str) -> tuple[Video, Job]:
    query = (
        select(Video, Job)
        .join(Job, Job.id == Video.id)
        .where(Video.id == video_id, Video.user_id == user_id, Video.deleted_at.is_(None))
    )
    found = (await session.execute(query)).first()
    if found is None:
        raise VideoNotFound()
    return found[0], found[1]


async def list_videos(
    session: AsyncSession, user_id: str, *, before: datetime | None, limit: int
) -> list[tuple[Video, Job]]:
    query = (
        select(Video, Job)
        .join(Job, Job.id == Video.id)
        .where(Video.user_id == user_id, Video.deleted_at.is_(None))
        .order_by(Video.created_at.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Video.created_at < before)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def delete_video(session: AsyncSession, user_id: str, video_id: str) -> Video:
    video, _job = await owned_video(session, user_id, video_id)
    video.deleted_at = utcnow()
    await session.flush()
    return video


# --- what the file says ---


@dataclass(frozen=True)
class Probe:
    duration_ms: int
    width: int
    height: int
    poster_jpeg: bytes


def probe(path: Path) -> Probe:
    """Duration, frame size and a JPEG poster (the first frame) of a video file; the file is
    read by the demuxer, never loaded whole. ``InvalidVideoFile`` if it is not one."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InvalidVideoFile("no video stream")
            stream = container.streams.video[0]
            duration = container.duration or 0  # microseconds
            frame = next(container.decode(stream))
            image = frame.to_image()  # type: ignore[no-untyped-call]
    except (av.FFmpegError, StopIteration, OSError) as error:
        raise InvalidVideoFile(str(error)) from error
    if image.width > POSTER_WIDTH:
        image = image.resize((POSTER_WIDTH, round(image.height * POSTER_WIDTH / image.width)))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=82)
    return Probe(round(duration / 1000), stream.width, stream.height, out.getvalue())
