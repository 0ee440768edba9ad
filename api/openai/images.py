"""OpenAI's images wire at ``/openai/v1``: ``POST /images/generations`` (JSON) and
``POST /images/edits`` (multipart: ``image`` or ``image[]``, ``mask``).

Each call is the studio's own image job (``ImageJobWorkflow`` on the job pipeline, started by
``api.images.routes.launch_image_job``): reserve ``n × cost`` images on the key owner's plan →
moderate → render → store → settle what was made. The answer waits for the job's outcome, so a
dropped connection or a worker crash loses neither the images nor the billing; they are in the
owner's gallery too. Outputs are answered as ``b64_json`` (the default) or a short-lived signed
``url``."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from temporalio.client import Client, WorkflowFailureError

from api.deps import AppState, SessionDep, StateDep, StorageDep, TemporalDep
from api.images.routes import domain_input, launch_image_job, webhook_origin_url
from api.openai.errors import (
    NO_RETRY,
    OpenAIError,
    check_parameters,
    invalid,
    model_not_allowed,
    model_not_found,
)
from api.openai.keys import Caller, CallerDep, KeyLimitsDep
from api.openai.routes import allowed
from core import apiimages, jobs
from core import images as domain
from core.errors import AppError
from core.image_catalog import ImageModel, resolve_image_model
from core.models.base import new_id
from core.outages import ServiceUnavailable
from core.settings import Settings
from providers.storage import ASSETS, Storage, object_key
from workflows.images import image_workflow_id
from workflows.pipeline import JobOutcome

router = APIRouter(prefix="/v1/images")
DEFAULT_MODEL = "gpt-image-1"
SUPPORTED = {"prompt", "model", "n", "size", "quality", "response_format", "user"}
DEFAULTS_ONLY: dict[str, tuple[object, ...]] = {
    "background": ("auto",),
    "moderation": ("auto",),
    "stream": (False, "false"),
}
RESPONSE_FORMATS = ("b64_json", "url")
MAX_EDIT_IMAGES = 4
FORMATS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpeg"}
# A failed job's code → (status, type, OpenAI code); the message is the job's, in the owner's language.
JOB_ERRORS: dict[str, tuple[int, str, str]] = {
    "quota_exceeded": (429, "insufficient_quota", "insufficient_quota"),
    "content_refused": (400, "invalid_request_error", "content_policy_violation"),
    "provider_timeout": (504, "server_error", "provider_timeout"),
    "cancelled": (409, "invalid_request_error", "cancelled"),
    "unavailable": (503, "server_error", "service_unavailable"),
    "service_unavailable": (503, "server_error", "service_unavailable"),  # repaired by the sweeper
}


@dataclass
class ImageCall:
    """A checked request: the model and the catalog's spec, how to answer, the edit's images."""

    spec: domain.ImageSpec
    response_format: str
    images: list[bytes]
    mask: bytes | None = None
    end_user: str = ""  # OpenAI's `user`, kept with the call for abuse reports


def _parse(fields: dict[str, Any], caller: Caller, settings: Settings, images: list[bytes]) -> ImageCall:
    check_parameters(fields, SUPPORTED, DEFAULTS_ONLY)
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid("prompt", "You must provide a prompt.")
    model = _model(str(fields.get("model") or DEFAULT_MODEL), caller, settings)
    size = _size(fields.get("size"), model)
    n = _count(fields.get("n"), model)
    quality = fields.get("quality") or "auto"
    if quality not in model.qualities:
        raise invalid(
            "quality", "Invalid quality '{value}'. This model supports: {allowed}.",
            value=quality, allowed=", ".join(model.qualities),
        )  # fmt: skip
    response_format = fields.get("response_format") or "b64_json"
    if response_format not in RESPONSE_FORMATS:
        raise invalid(
            "response_format", "Invalid response_format '{value}'. Supported values are: {allowed}.",
            value=response_format, allowed=", ".join(RESPONSE_FORMATS),
        )  # fmt: skip
    spec = domain.check_request(model, prompt, size, n, inputs=len(images), mask=False, quality=str(quality))
    return ImageCall(spec, str(response_format), images, end_user=str(fields.get("user") or ""))


def _model(model_id: str, caller: Caller, settings: Settings) -> ImageModel:
    try:
        model = resolve_image_model(model_id, settings)
    except AppError:  # unknown, a chat model, or its provider switched off
        raise model_not_found(model_id) from None
    if not allowed(caller, model.id):
        raise model_not_allowed(model.id)
    return model


def _size(value: object, model: ImageModel) -> str:
    if value in (None, "auto"):
        return model.default_size
    if value not in model.sizes:
        raise invalid(
            "size", "Invalid size '{value}'. This model supports: {allowed}.",
            value=value, allowed=", ".join(["auto", *model.sizes]),
        )  # fmt: skip
    return str(value)


def _count(value: object, model: ImageModel) -> int:
    try:
        n = 1 if value is None else int(str(value))
    except ValueError:
        n = 0
    if not 1 <= n <= model.max_outputs or isinstance(value, bool | float):
        raise invalid(
            "n", "Invalid 'n': this model makes between 1 and {most} images.", most=model.max_outputs
        )
    return n


async def _image_bytes(upload: object, param: str) -> bytes:
    if not isinstance(upload, UploadFile):
        raise invalid(param, "'{field}' must be an image file (PNG, JPEG or WebP).", field=param)
    data = await upload.read(domain.MAX_INPUT_BYTES + 1)
    if len(data) > domain.MAX_INPUT_BYTES:
        raise invalid(param, "The image is too large (at most {mb} MB).", mb=domain.MAX_INPUT_BYTES // 2**20)
    try:
        domain.image_size(data)
    except domain.InvalidImageFile:
        raise invalid(param, "'{field}' must be an image file (PNG, JPEG or WebP).", field=param) from None
    return data


@router.post("/generations")
async def generations(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    limits: KeyLimitsDep,
    storage: StorageDep,
) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise invalid("body", "We could not parse the JSON body of your request.") from None
    if not isinstance(body, dict):
        raise invalid("body", "The request body must be a JSON object.")
    call = _parse(body, caller, state.settings, [])
    await limits.admit(caller, 0)  # rpm (images use no tokens: tpm does not apply)
    return await _run(request, call, caller, session, Deps(state, storage, client))


@router.post("/edits")
async def edits(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    state: StateDep,
    client: TemporalDep,
    limits: KeyLimitsDep,
    storage: StorageDep,
) -> dict[str, Any]:
    try:
        form = await request.form(max_files=MAX_EDIT_IMAGES + 1, max_fields=20)
    except Exception:  # noqa: BLE001 - not multipart, or too many parts
        raise invalid("body", "Send the edit as multipart/form-data with an image and a prompt.") from None
    uploads = [*form.getlist("image"), *form.getlist("image[]")]
    if not uploads:
        raise invalid("image", "You must provide an image to edit.")
    if len(uploads) > MAX_EDIT_IMAGES:
        raise invalid("image", "At most {most} images can be edited at once.", most=MAX_EDIT_IMAGES)
    fields = {k: v for k, v in form.multi_items() if k not in {"image", "image[]", "mask"}}
    images = [await _image_bytes(upload, "image") for upload in uploads]
    call = _parse(fields, caller, state.settings, images)
    if form.get("mask") is not None:
        if not call.spec.model.masks:
            raise invalid("mask", "This model does not take a mask.")
        call.mask = await _image_bytes(form.get("mask"), "mask")
        call.spec = domain.check_request(
            call.spec.model, call.spec.prompt, call.spec.size, call.spec.n,
            inputs=len(images), mask=True, quality=call.spec.quality,
        )  # fmt: skip
    await limits.admit(caller, 0)
    return await _run(request, call, caller, session, Deps(state, storage, client))


@dataclass(frozen=True)
class Deps:
    state: AppState
    storage: Storage
    client: Client


async def _run(
    request: Request, call: ImageCall, caller: Caller, session: SessionDep, deps: Deps
) -> dict[str, Any]:
    """Record the job under the key (its image budget), store the edit's inputs, start the job,
    wait for its outcome and answer it."""
    user, spec, settings = caller.user, call.spec, deps.state.settings
    job_id = new_id()
    pngs = [await asyncio.to_thread(domain.as_png, image) for image in call.images]
    mask = await asyncio.to_thread(domain.as_png, call.mask) if call.mask is not None else None
    await apiimages.start_api_image_call(
        session,
        key=caller.key,
        job_id=job_id,
        workflow_id=image_workflow_id(job_id),
        model=spec.model.id,
        max_images=spec.cost,
        end_user=call.end_user,
    )
    await session.commit()  # the budget's lock is not held across the uploads
    try:
        input_keys, mask_key = await _store_inputs(deps.storage, user.id, job_id, pngs, mask)
    except Exception:
        await jobs.fail_unstarted(session, job_id)
        await session.commit()
        raise
    data = domain_input(spec, job_id, user.id, user.locale, input_keys, mask_key, None)
    if spec.model.async_jobs:
        data.webhook_url = webhook_origin_url(origin(request), settings)
    handle = await launch_image_job(session, deps.client, settings, data)
    try:
        outcome = await handle.result()
    except WorkflowFailureError:  # terminated by an operator: the job never finished
        outcome = JobOutcome("failed", error_code="provider_error")
    if outcome.status != "succeeded":
        raise await _job_error(session, caller, job_id, outcome)
    return {
        "created": int(time.time()),
        "data": [await _item(request, deps, output, call.response_format) for output in outcome.outputs],
        "size": spec.size,
        "quality": spec.quality,
        "output_format": FORMATS.get(outcome.outputs[0].content_type, "png") if outcome.outputs else "png",
        "usage": {"images": outcome.usage.get("images", 0)},  # what the ledger charged the plan
    }


async def _store_inputs(
    storage: Storage, user_id: str, job_id: str, pngs: list[bytes], mask: bytes | None
) -> tuple[list[str], str | None]:
    """The edit's images (and mask) under the job's keys: a retry overwrites, never duplicates."""
    keys = []
    for i, image in enumerate(pngs):
        keys.append(object_key(user_id, "image", job_id, f"input-{i + 1}.png"))
        await storage.put(ASSETS, keys[-1], image, "image/png")
    if mask is None:
        return keys, None
    mask_key = object_key(user_id, "image", job_id, "mask.png")
    await storage.put(ASSETS, mask_key, mask, "image/png")
    return keys, mask_key


async def _item(request: Request, deps: Deps, output: Any, response_format: str) -> dict[str, Any]:
    if response_format == "b64_json":
        return {"b64_json": base64.b64encode(await deps.storage.get(ASSETS, output.key)).decode()}
    url = await deps.storage.signed_get_url(
        ASSETS,
        output.key,
        filename=output.name,
        content_type=output.content_type,
        expires_in=deps.state.settings.storage_download_ttl_seconds,
        inline=True,
    )
    return {"url": origin(request) + url if url.startswith("/") else url}


def origin(request: Request) -> str:
    """The site's own origin (this sub-application's base URL without its mount path)."""
    from api.openai import MOUNT_PATH  # the package imports this module

    return str(request.base_url).rstrip("/").removesuffix(MOUNT_PATH)


async def _job_error(session: SessionDep, caller: Caller, job_id: str, outcome: JobOutcome) -> OpenAIError:
    job = await jobs.owned_job(session, caller.user.id, job_id)
    await session.refresh(job)
    code = job.error_code or outcome.error_code or "provider_error"
    status, kind, openai_code = JOB_ERRORS.get(code, (502, "server_error", "provider_error"))
    headers = dict(NO_RETRY) if kind == "insufficient_quota" else None
    if status == 503:  # an outage (or a job the sweeper had to end): try again, never our 5xx
        headers = {"Retry-After": str(ServiceUnavailable.retry_after)}
    message = jobs.english_error(job.error_code, job.error_message)
    return OpenAIError(status, message, type=kind, code=openai_code, headers=headers)
