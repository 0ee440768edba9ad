"""The image studio API: ``GET /v1/images/models``, ``POST /v1/images`` (202, a durable job),
the gallery (``GET /v1/images``, ``GET/DELETE /v1/images/{id}``) with short-lived signed links.

Progress, outcome and cancel go through the one job API (``/v1/jobs/{id}``, ``/events``,
``/cancel``)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, SessionDep, SettingsDep, StorageDep, TemporalDep
from api.images.schemas import (
    ImageCreate,
    ImageJobCreated,
    ImageModelList,
    ImageModelPublic,
    ImageOut,
    ImagePage,
)
from api.jobs.routes import absolute
from core import files, jobs
from core import images as domain
from core.image_catalog import ImageModel, available_image_models, resolve_image_model
from core.models import GalleryImage, StoredFile
from core.models.base import new_id
from core.settings import Env, Settings
from providers.storage import ASSETS, Storage, object_key
from workflows import MEDIA, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_MODEL, PULSE_PROVIDER, PULSE_USER_ID
from workflows.images import ImageJobInput, ImageJobWorkflow, image_workflow_id
from workflows.pipeline import JobOutcome

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


# --- create ---


def decode_inline(value: str) -> bytes:
    """Base64 (optionally a ``data:`` URL) of a PNG/JPEG/WebP; ``invalid_image_file`` otherwise."""
    payload = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise domain.InvalidImageFile() from None
    domain.image_size(data)
    return data


def webhook_url(request: Request, settings: Settings) -> str | None:
    return webhook_origin_url(str(request.base_url), settings)


def webhook_origin_url(origin: str, settings: Settings) -> str | None:
    """Where Replicate posts: the configured URL, else the public URL (prod) or ``origin``."""
    if not settings.replicate_webhooks:
        return None
    if settings.replicate_webhook_url:
        return settings.replicate_webhook_url
    origin = settings.public_url if settings.env == Env.prod else origin
    return f"{origin.rstrip('/')}/v1/webhooks/replicate"


async def gather_inputs(
    body: ImageCreate, session: AsyncSession, storage: Storage, user_id: str, job_id: str
) -> tuple[list[str], str | None, list[StoredFile]]:
    """Storage keys of the images to edit and of the mask (inline ones are stored first), and the
    uploaded files the job takes (``file_not_found`` / ``file_not_ready`` otherwise)."""
    uploads = await files.ready_files(session, user_id, body.input_file_ids)
    keys = [row.key for row in uploads]
    if body.source_image_id:
        keys.insert(0, (await domain.owned_image(session, user_id, body.source_image_id)).key)
    if body.image_base64:
        key = object_key(user_id, "image", job_id, "input-1.png")
        await storage.put(ASSETS, key, domain.as_png(decode_inline(body.image_base64)), "image/png")
        keys.insert(0, key)
    mask_key = None
    if body.mask_file_id:
        mask = await files.ready_file(session, user_id, body.mask_file_id)
        uploads.append(mask)
        mask_key = mask.key
    if body.mask_base64:
        mask_key = object_key(user_id, "image", job_id, "mask.png")
        await storage.put(ASSETS, mask_key, domain.as_png(decode_inline(body.mask_base64)), "image/png")
    return keys, mask_key, uploads


@router.post("", status_code=202, response_model=ImageJobCreated)
async def create_image_job(
    body: ImageCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> ImageJobCreated:
    model = resolve_image_model(body.model, settings)
    has_inputs = bool(body.input_file_ids or body.source_image_id or body.image_base64)
    has_mask = bool(body.mask_file_id or body.mask_base64)
    spec = domain.check_request(model, body.prompt, body.size, body.n, inputs=int(has_inputs), mask=has_mask)
    job_id = new_id()
    input_keys, mask_key, uploads = await gather_inputs(body, session, storage, user.id, job_id)
    workflow_id = image_workflow_id(job_id)
    await jobs.ensure_job(session, job_id=job_id, user_id=user.id, kind="image", workflow_id=workflow_id)
    await files.attach_to_job(session, job_id, uploads)
    await session.commit()
    data = domain_input(spec, job_id, user.id, locale, input_keys, mask_key, body.source_image_id)
    data.webhook_url = webhook_url(request, settings) if model.async_jobs else None
    await launch_image_job(session, client, settings, data)
    return ImageJobCreated(
        job_id=job_id, events_url=f"/v1/jobs/{job_id}/events", status_url=f"/v1/jobs/{job_id}"
    )


async def launch_image_job(
    session: AsyncSession, client: Client, settings: Settings, data: ImageJobInput
) -> WorkflowHandle[ImageJobWorkflow, JobOutcome]:
    """Start the job's ``ImageJobWorkflow`` (its ``jobs`` row is committed); if Temporal can't
    take it, the row ends ``failed`` (``unavailable``) and the error goes up. The studio's route
    and the OpenAI-compatible one both start image jobs here."""
    data.first_poll_s, data.max_poll_s = settings.image_poll_initial_seconds, settings.image_poll_max_seconds
    try:
        return await client.start_workflow(
            ImageJobWorkflow.run,
            data,
            id=image_workflow_id(data.job_id),
            task_queue=settings.task_queue(MEDIA),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, data.user_id),
                    SearchAttributePair(PULSE_JOB_KIND, "image"),
                    SearchAttributePair(PULSE_PROVIDER, data.provider),
                    SearchAttributePair(PULSE_MODEL, data.model),
                    SearchAttributePair(PULSE_JOB_STATUS, "running"),
                ]
            ),
            static_summary=f"image · {data.model} · {data.n}",
        )
    except Exception:
        await jobs.fail_unstarted(session, data.job_id)  # a row the sweeper failed keeps its outcome
        await session.commit()
        raise


def domain_input(
    spec: domain.ImageSpec,
    job_id: str,
    user_id: str,
    locale: str,
    input_keys: list[str],
    mask_key: str | None,
    source_image_id: str | None,
) -> ImageJobInput:
    return ImageJobInput(
        job_id=job_id,
        user_id=user_id,
        model=spec.model.id,
        prompt=spec.prompt,
        size=spec.size,
        n=spec.n,
        cost=spec.model.cost,
        quality=spec.quality,
        locale=locale,
        provider=spec.model.provider,
        long_job=spec.model.async_jobs,
        input_keys=input_keys,
        mask_key=mask_key,
        source_image_id=source_image_id,
    )


# --- the gallery ---


async def image_out(request: Request, image: GalleryImage, storage: Storage, settings: Settings) -> ImageOut:
    ttl = settings.storage_download_ttl_seconds
    name = image.key.rsplit("/", 1)[-1]

    async def link(key: str, content_type: str, *, inline: bool) -> str:
        url = await storage.signed_get_url(
            ASSETS, key, filename=name, content_type=content_type, expires_in=ttl, inline=inline
        )
        return absolute(request, url)

    return ImageOut(
        id=image.id,
        job_id=image.job_id,
        model=image.model,
        prompt=image.prompt,
        width=image.width,
        height=image.height,
        content_type=image.content_type,
        size=image.size,
        url=await link(image.key, image.content_type, inline=True),
        download_url=await link(image.key, image.content_type, inline=False),
        thumb_url=await link(image.thumb_key, "image/webp", inline=True),
        source_image_id=image.source_image_id,
        created_at=image.created_at,
    )


@router.get("", response_model=ImagePage)
async def list_gallery(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    before: datetime | None = Query(None),
    limit: int = Query(24, ge=1, le=domain.PAGE_MAX),
    job_id: str | None = Query(None, max_length=32),
) -> ImagePage:
    if job_id is not None:
        await jobs.owned_job(session, user.id, job_id)
        rows = await domain.job_images(session, job_id)
    else:
        rows = await domain.list_images(session, user.id, before=before, limit=limit)
    images = [await image_out(request, row, storage, settings) for row in rows]
    full = job_id is None and len(rows) == limit
    return ImagePage(images=images, next_before=rows[-1].created_at if full else None)


@router.get("/{image_id}", response_model=ImageOut)
async def get_image(
    image_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
) -> ImageOut:
    image = await domain.owned_image(session, user.id, image_id)
    return await image_out(request, image, storage, settings)


@router.delete("/{image_id}", status_code=204)
async def delete_image(
    image_id: str, user: CurrentUser, session: SessionDep, storage: StorageDep
) -> Response:
    image = await domain.delete_image(session, user.id, image_id)
    await session.commit()
    for key in (image.key, image.thumb_key):
        await storage.delete(ASSETS, key)
    return Response(status_code=204)
