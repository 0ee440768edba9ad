"""Image job activities: moderate the prompt, make images (one call for OpenAI and Gemini;
submit → poll/cancel → store for Replicate predictions); each stored image gets its thumbnail
and gallery row in the same activity.

Outputs travel as storage keys, never bytes. Keys come from owner, kind, job and position
(``u/<user>/image/<job>/image-1.png``), so a retried activity overwrites and never duplicates.
Provider errors become ``ApplicationError``s: retryable ones carry the server's retry-after;
a safety refusal is ``content_refused`` (non-retryable: nothing is billed, all is released).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.jobs import OutputRef, publish_progress
from core import images as domain
from core.db import Database
from core.settings import Settings
from providers.images import ContentRefused, GeneratedImage, ImageClient, ImageRequest
from providers.images.replicate_images import pipeline_status
from providers.llm import LLMClient
from providers.llm.errors import ProviderError, RetryableProviderError
from providers.storage import ASSETS, Storage, object_key
from providers.streams import StreamBus
from workflows.pipeline import ProviderUpdate

log = structlog.get_logger(__name__)
EXTENSIONS = {"image/png": "png", "image/webp": "webp", "image/jpeg": "jpg"}


@dataclass
class ImageJobInput:
    job_id: str
    user_id: str
    model: str
    prompt: str
    size: str
    n: int = 1
    cost: int = 1  # images units per output
    quality: str = "auto"  # one of the catalog's qualities for the model
    locale: str = "ar"
    provider: str = "openai"
    long_job: bool = False  # a Replicate prediction: submit, then await webhook or poll
    input_keys: list[str] = field(default_factory=list)  # images to edit (assets bucket)
    mask_key: str | None = None
    source_image_id: str | None = None  # the gallery image being edited
    webhook_url: str | None = None
    first_poll_s: float = 1.0
    max_poll_s: float = 10.0


@dataclass
class StoreInput:
    job: ImageJobInput
    urls: list[str]


def to_application_error(error: ProviderError) -> ApplicationError:
    if isinstance(error, ContentRefused):
        return ApplicationError(error.message, type="content_refused", non_retryable=True)
    if isinstance(error, RetryableProviderError):
        delay = timedelta(seconds=error.retry_after) if error.retry_after else None
        return ApplicationError(str(error), type="provider_retryable", next_retry_delay=delay)
    return ApplicationError(str(error), error.code or "", type="provider_error", non_retryable=True)


def output_name(position: int, content_type: str) -> str:
    return f"image-{position + 1}.{EXTENSIONS.get(content_type, 'png')}"


class ImageActivities:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: Storage,
        images: ImageClient,
        llm: LLMClient,
        bus: StreamBus,
    ) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage
        self.images = images
        self.llm = llm
        self.bus = bus

    @activity.defn(name="images.moderate")
    async def moderate(self, prompt: str) -> None:
        """``content_refused`` when the moderation model flags the prompt."""
        try:
            verdict = await self.llm.moderate(prompt)
        except ProviderError as error:
            raise to_application_error(error) from None
        if verdict.flagged:
            raise ApplicationError(
                "prompt flagged", ",".join(verdict.categories), type="content_refused", non_retryable=True
            )

    async def _request(self, data: ImageJobInput) -> ImageRequest:
        inputs = [await self.storage.get(ASSETS, key) for key in data.input_keys]
        base = [await asyncio.to_thread(domain.as_png, image) for image in inputs]
        mask = None
        if data.mask_key is not None and base:
            raw = await self.storage.get(ASSETS, data.mask_key)
            mask = await asyncio.to_thread(domain.as_png, raw, domain.image_size(base[0]))
        return ImageRequest(data.model, data.prompt, data.size, data.n, base, mask, data.quality)

    async def _store(self, data: ImageJobInput, position: int, image: GeneratedImage) -> domain.NewImage:
        """The image and its thumbnail into our storage (keys by job and position)."""
        width, height = domain.image_size(image.data)
        key = object_key(data.user_id, "image", data.job_id, output_name(position, image.content_type))
        info = await self.storage.put(ASSETS, key, image.data, image.content_type)
        thumb_key = object_key(data.user_id, "image", data.job_id, f"thumb-{position + 1}.webp")
        thumb = await asyncio.to_thread(domain.thumbnail, image.data)
        await self.storage.put(ASSETS, thumb_key, thumb, "image/webp")
        await publish_progress(self.bus, data.job_id, "store", position + 1, data.n)
        return domain.NewImage(
            user_id=data.user_id,
            job_id=data.job_id,
            position=position,
            model=data.model,
            prompt=data.prompt,
            width=width,
            height=height,
            content_type=info.content_type,
            size=info.size,
            key=key,
            thumb_key=thumb_key,
            source_image_id=data.source_image_id,
        )

    async def _record(self, rows: list[domain.NewImage]) -> list[OutputRef]:
        """Gallery rows (shown once the job succeeded; a retry inserts nothing twice)."""
        async with self.db.session() as session:
            await domain.record_images(session, rows)
        return [OutputRef(row.key.rsplit("/", 1)[-1], row.key, row.content_type, row.size) for row in rows]

    @activity.defn(name="images.generate")
    async def generate(self, data: ImageJobInput) -> list[OutputRef]:
        """OpenAI and Gemini: one provider call; each output stored (with its thumbnail) at once."""
        request = await self._request(data)
        try:
            made = await self.images.generate(request)
        except ProviderError as error:
            raise to_application_error(error) from None
        return await self._record(
            [await self._store(data, i, image) for i, image in enumerate(made[: data.n])]
        )

    @activity.defn(name="images.submit")
    async def submit(self, data: ImageJobInput) -> str:
        """Create the prediction once: a retry finds the one already recorded for this job."""
        async with self.db.session() as session:
            existing = await domain.prediction_for_job(session, data.job_id)
        if existing is not None:
            return existing
        request = await self._request(data)
        try:
            prediction_id = await self.images.submit(request, data.webhook_url)
        except ProviderError as error:
            raise to_application_error(error) from None
        try:
            async with self.db.session() as session:
                await domain.record_prediction(
                    session,
                    prediction_id=prediction_id,
                    job_id=data.job_id,
                    workflow_id=activity.info().workflow_id or f"image-{data.job_id}",
                    provider=data.provider,
                )
        except Exception:
            # unrecorded, a retry would submit again: cancel this one so only one ever runs
            await asyncio.shield(self._cancel_quietly(prediction_id))
            raise
        log.info("images.submitted", job_id=data.job_id, prediction_id=prediction_id)
        return prediction_id

    async def _cancel_quietly(self, prediction_id: str) -> None:
        try:
            await self.images.cancel(prediction_id)
        except ProviderError as error:
            log.warning("images.orphan_cancel_failed", prediction_id=prediction_id, error=str(error))

    @activity.defn(name="images.poll")
    async def poll(self, prediction_id: str) -> ProviderUpdate:
        try:
            state = await self.images.prediction(prediction_id)
        except ProviderError as error:
            raise to_application_error(error) from None
        status, code = pipeline_status(state)
        return ProviderUpdate(prediction_id, status, output=state.outputs, error=code)

    @activity.defn(name="images.cancel")
    async def cancel(self, prediction_id: str) -> None:
        try:
            await self.images.cancel(prediction_id)
        except ProviderError as error:
            if error.retryable:
                raise to_application_error(error) from None
            log.info("images.cancel_refused", prediction_id=prediction_id, error=str(error))

    @activity.defn(name="images.store")
    async def store(self, data: StoreInput) -> list[OutputRef]:
        """Download each output at once (Replicate deletes them after an hour) and store it."""
        rows = []
        for position, url in enumerate(data.urls[: data.job.n]):
            try:
                body, content_type = await self.images.download(url)
            except ProviderError as error:
                raise to_application_error(error) from None
            rows.append(await self._store(data.job, position, GeneratedImage(body, content_type)))
        return await self._record(rows)
