"""The image studio's domain: requests checked against the catalog, the gallery (owner-scoped,
paged, soft-deleted), provider predictions, thumbnails and image checks (Pillow)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound, ValidationFailed
from core.image_catalog import ImageModel
from core.models import GalleryImage, ImagePrediction, Job, JobStatus, WebhookEvent
from core.models.base import new_id, utcnow

THUMB_SIDE = 384
MAX_PROMPT_CHARS = 4000
MAX_INPUT_BYTES = 20 * 1024 * 1024
MAX_INPUT_SIDE = 4096
PAGE_MAX = 60


class ImageNotFound(NotFound):
    code = "image_not_found"
    message = "This image was not found."


class InvalidImageRequest(ValidationFailed):
    code = "invalid_image_request"
    message = "This image request is not valid."

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message, **params)  # the English msgid, translated when answered


class InvalidImageFile(ValidationFailed):
    code = "invalid_image_file"
    message = "This file is not an image we can read (PNG, JPEG or WebP)."


@dataclass(frozen=True)
class ImageSpec:
    """A checked request: the model's size, a count within limits, edit inputs allowed."""

    model: ImageModel
    prompt: str
    size: str
    n: int
    edit: bool
    mask: bool
    quality: str = "auto"

    @property
    def cost(self) -> int:
        return self.model.cost * self.n


def check_request(
    model: ImageModel,
    prompt: str,
    size: str | None,
    n: int,
    *,
    inputs: int,
    mask: bool,
    quality: str | None = None,
) -> ImageSpec:
    prompt = prompt.strip()
    if not prompt:
        raise InvalidImageRequest("Write a prompt that describes the image.")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidImageRequest(
            "The prompt is too long (at most {limit} characters).", limit=MAX_PROMPT_CHARS
        )
    chosen = size or model.default_size
    if chosen not in model.sizes:
        raise InvalidImageRequest("This model does not make images of that size.")
    if not 1 <= n <= model.max_outputs:
        raise InvalidImageRequest(
            "This model makes between 1 and {limit} images at a time.", limit=model.max_outputs
        )
    if inputs and not model.edits:
        raise InvalidImageRequest("This model cannot edit images; choose one that can.")
    if not inputs and not model.generates:
        raise InvalidImageRequest("This model only edits images; add an image to edit.")
    if mask and not inputs:
        raise InvalidImageRequest("A mask needs an image to edit.")
    if mask and not model.masks:
        raise InvalidImageRequest("This model does not take a mask; choose one that does.")
    if (quality or "auto") not in model.qualities:
        raise InvalidImageRequest("This model does not offer that quality.")
    return ImageSpec(model, prompt, chosen, n, bool(inputs), mask, quality or "auto")


# --- pixels ---


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of PNG/JPEG/WebP bytes; ``InvalidImageFile`` for anything else."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in {"PNG", "JPEG", "WEBP"}:
                raise InvalidImageFile()
            image.verify()
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise InvalidImageFile() from None


def as_png(data: bytes, size: tuple[int, int] | None = None) -> bytes:
    """The image as PNG (RGBA), resized to ``size`` if given: what edit endpoints take."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            converted = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidImageFile() from None
    if size is not None and converted.size != size:
        converted = converted.resize(size)
    out = io.BytesIO()
    converted.save(out, format="PNG")
    return out.getvalue()


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """A WebP that fits in ``side`` × ``side`` (aspect kept), for the gallery grid."""
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGBA")
    small.thumbnail((side, side))
    out = io.BytesIO()
    small.save(out, format="WEBP", quality=80)
    return out.getvalue()


# --- the gallery ---


@dataclass(frozen=True)
class NewImage:
    user_id: str
    job_id: str
    position: int
    model: str
    prompt: str
    width: int
    height: int
    content_type: str
    size: int
    key: str
    thumb_key: str
    source_image_id: str | None = None


async def record_images(session: AsyncSession, images: list[NewImage]) -> None:
    """Gallery rows for a job's outputs; a retry (same job and position) changes nothing."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for image in images:
        values = {**image.__dict__}
        await session.execute(
            insert(GalleryImage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["job_id", "position"])
        )


def shown(query: Select[Any]) -> Select[Any]:
    """Images of jobs that succeeded (so billed), not deleted. A job cancelled after its images
    were stored released its quota: its images never reach the gallery."""
    succeeded = select(Job.id).where(Job.id == GalleryImage.job_id, Job.status == JobStatus.succeeded.value)
    return query.where(GalleryImage.deleted_at.is_(None), succeeded.exists())


async def list_images(
    session: AsyncSession, user_id: str, *, before: datetime | None = None, limit: int = 24
) -> list[GalleryImage]:
    """The person's gallery, newest first; ``before`` pages on (keyset by creation time)."""
    query = shown(select(GalleryImage)).where(GalleryImage.user_id == user_id)
    if before is not None:
        query = query.where(GalleryImage.created_at < before)
    query = query.order_by(GalleryImage.created_at.desc(), GalleryImage.position.asc())
    return list((await session.execute(query.limit(min(max(limit, 1), PAGE_MAX)))).scalars())


async def owned_image(session: AsyncSession, user_id: str, image_id: str) -> GalleryImage:
    """The person's image; another user's (or a deleted) id answers ``image_not_found``."""
    query = shown(select(GalleryImage)).where(GalleryImage.id == image_id, GalleryImage.user_id == user_id)
    image: GalleryImage | None = (await session.execute(query)).scalar_one_or_none()
    if image is None:
        raise ImageNotFound()
    return image


async def job_images(session: AsyncSession, job_id: str) -> list[GalleryImage]:
    query = shown(select(GalleryImage)).where(GalleryImage.job_id == job_id)
    return list((await session.execute(query.order_by(GalleryImage.position))).scalars())


async def delete_image(session: AsyncSession, user_id: str, image_id: str) -> GalleryImage:
    """Soft-delete (the row leaves the gallery at once; its objects are deleted by the caller)."""
    image = await owned_image(session, user_id, image_id)
    await session.execute(update(GalleryImage).where(GalleryImage.id == image.id).values(deleted_at=utcnow()))
    return image


# --- provider predictions ---


async def prediction_for_job(session: AsyncSession, job_id: str) -> str | None:
    query = select(ImagePrediction.prediction_id).where(ImagePrediction.job_id == job_id)
    return (await session.execute(query)).scalar_one_or_none()


async def record_prediction(
    session: AsyncSession, *, prediction_id: str, job_id: str, workflow_id: str, provider: str
) -> None:
    session.add(
        ImagePrediction(
            prediction_id=prediction_id, job_id=job_id, workflow_id=workflow_id, provider=provider
        )
    )
    await session.flush()


async def workflow_for_prediction(session: AsyncSession, prediction_id: str) -> str | None:
    query = select(ImagePrediction.workflow_id).where(ImagePrediction.prediction_id == prediction_id)
    return (await session.execute(query)).scalar_one_or_none()


async def record_webhook(
    session: AsyncSession, webhook_id: str, prediction_id: str, status: str, payload: dict[str, Any]
) -> bool:
    """Record a verified webhook once (``webhook_events``, deduplicated by its ``webhook-id``);
    False for a delivery seen before (its delivery count goes up)."""
    dedupe_key = f"replicate:{webhook_id}"
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "id": new_id(),
        "provider": "replicate",
        "dedupe_key": dedupe_key,
        "type": status[:32],
        "provider_payment_id": prediction_id[:64],
        "payload": payload,
        "deliveries": 1,
        "received_at": utcnow(),
    }
    inserted = await session.execute(
        insert(WebhookEvent).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    if inserted.rowcount:  # type: ignore[attr-defined]
        return True
    await session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.dedupe_key == dedupe_key)
        .values(deliveries=WebhookEvent.deliveries + 1)
    )
    return False
