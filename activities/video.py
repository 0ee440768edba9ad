"""Video job activities: submit a render once (its provider job id recorded at once), poll it
(publishing the provider's progress), cancel it, and store the result: the file streamed from
the provider to a temporary file and from there to storage (never whole in memory), its
duration, frame size and poster read from the file.

Each provider has its own poll and cancel activity, so the workflow keeps the provider's job id
exactly as the provider (and Replicate's webhook) spells it. Provider errors become
``ApplicationError``s as in the image activities (``to_application_error``)."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.images import to_application_error
from activities.jobs import OutputRef, publish_progress
from core import videos as domain
from core.db import Database
from core.video_catalog import VideoProvider
from providers.llm.errors import ProviderError
from providers.storage import ASSETS, Storage, object_key
from providers.streams import StreamBus
from providers.video import RenderState, VideoClient, VideoRequest
from workflows.pipeline import ProviderUpdate

log = structlog.get_logger(__name__)
PROGRESS_TOTAL = 100


@dataclass
class VideoJobInput:
    job_id: str
    user_id: str
    model: str  # ours
    provider: str  # google | runway | replicate
    provider_model: str
    prompt: str
    duration_s: int
    aspect_ratio: str  # the provider's parameter
    resolution: str = "720p"
    cost: int = 1  # videos units
    locale: str = "ar"
    first_frame_key: str | None = None  # assets key of the first frame (image-to-video)
    first_frame_type: str = "image/png"
    webhook_url: str | None = None  # Replicate
    first_poll_s: float = 10.0
    max_poll_s: float = 30.0
    ceiling_s: float = 1200.0
    email_after_s: float = 120.0  # a render longer than this emails the person when ready
    notify_to: str | None = None  # the person's address (payloads are encrypted by the codec)
    link: str = ""  # the video page


@dataclass
class StoreVideoInput:
    job: VideoJobInput
    output: str  # the provider's URL or Veo file uri


def provider_of(data: VideoJobInput) -> VideoProvider:
    provider: VideoProvider = data.provider  # type: ignore[assignment]
    return provider


class VideoActivities:
    def __init__(self, db: Database, storage: Storage, video: VideoClient, bus: StreamBus) -> None:
        self.db = db
        self.storage = storage
        self.video = video
        self.bus = bus

    async def _request(self, data: VideoJobInput) -> VideoRequest:
        first_frame = None
        if data.first_frame_key is not None:
            first_frame = await self.storage.get(ASSETS, data.first_frame_key)
        return VideoRequest(
            provider_model=data.provider_model,
            prompt=data.prompt,
            duration_s=data.duration_s,
            aspect_ratio=data.aspect_ratio,
            resolution=data.resolution,
            first_frame=first_frame,
            first_frame_type=data.first_frame_type,
            idempotency_key=data.job_id,
            webhook_url=data.webhook_url,
        )

    @activity.defn(name="video.submit")
    async def submit(self, data: VideoJobInput) -> str:
        """Start the render once: a retry finds the provider job already recorded for this job."""
        async with self.db.session() as session:
            existing = await domain.provider_job_for(session, data.job_id)
        if existing is not None:
            return existing
        adapter = await self.video.adapter(provider_of(data))
        try:
            provider_job_id = await adapter.submit(await self._request(data))
        except ProviderError as error:
            raise to_application_error(error) from None
        try:
            async with self.db.session() as session:
                await domain.record_provider_job(session, data.job_id, provider_job_id)
                if data.provider == "replicate":  # the shared webhook route finds its workflow
                    from core import images

                    await images.record_prediction(
                        session,
                        prediction_id=provider_job_id,
                        job_id=data.job_id,
                        workflow_id=activity.info().workflow_id or f"video-{data.job_id}",
                        provider="replicate",
                    )
        except Exception:
            # unrecorded, a retry would submit again: cancel this one so only one ever runs
            await asyncio.shield(self._cancel_quietly(data.provider, provider_job_id))
            raise
        log.info(
            "video.submitted", job_id=data.job_id, provider=data.provider, provider_job_id=provider_job_id
        )
        return provider_job_id

    async def _cancel_quietly(self, provider: str, provider_job_id: str) -> None:
        try:
            await (await self.video.adapter(provider)).cancel(provider_job_id)  # type: ignore[arg-type]
        except ProviderError as error:
            log.warning("video.orphan_cancel_failed", provider_job_id=provider_job_id, error=str(error))

    async def _poll(self, provider: VideoProvider, provider_job_id: str) -> ProviderUpdate:
        try:
            state: RenderState = await (await self.video.adapter(provider)).get(provider_job_id)
        except ProviderError as error:
            raise to_application_error(error) from None
        if state.status == "running" and state.progress is not None:
            job_id = (activity.info().workflow_id or "").removeprefix("video-")
            done = round(state.progress * PROGRESS_TOTAL)
            await publish_progress(self.bus, job_id, "running", done, PROGRESS_TOTAL)
        return ProviderUpdate(provider_job_id, state.status, output=state.output, error=state.error)

    @activity.defn(name="video.poll_google")
    async def poll_google(self, provider_job_id: str) -> ProviderUpdate:
        return await self._poll("google", provider_job_id)

    @activity.defn(name="video.poll_runway")
    async def poll_runway(self, provider_job_id: str) -> ProviderUpdate:
        return await self._poll("runway", provider_job_id)

    @activity.defn(name="video.poll_replicate")
    async def poll_replicate(self, provider_job_id: str) -> ProviderUpdate:
        return await self._poll("replicate", provider_job_id)

    async def _cancel(self, provider: VideoProvider, provider_job_id: str) -> bool:
        try:
            cancelled = await (await self.video.adapter(provider)).cancel(provider_job_id)
        except ProviderError as error:
            if error.retryable:
                raise to_application_error(error) from None
            log.info("video.cancel_refused", provider_job_id=provider_job_id, error=str(error))
            return False
        log.info("video.cancelled", provider=provider, provider_job_id=provider_job_id, cancelled=cancelled)
        return cancelled

    @activity.defn(name="video.cancel_google")
    async def cancel_google(self, provider_job_id: str) -> bool:
        return await self._cancel("google", provider_job_id)

    @activity.defn(name="video.cancel_runway")
    async def cancel_runway(self, provider_job_id: str) -> bool:
        return await self._cancel("runway", provider_job_id)

    @activity.defn(name="video.cancel_replicate")
    async def cancel_replicate(self, provider_job_id: str) -> bool:
        return await self._cancel("replicate", provider_job_id)

    @activity.defn(name="video.store")
    async def store(self, data: StoreVideoInput) -> list[OutputRef]:
        """Download at once (provider links expire), read the file, store it and its poster."""
        job = data.job
        await publish_progress(self.bus, job.job_id, "storing", 0, 1)
        adapter = await self.video.adapter(provider_of(job))
        with tempfile.TemporaryDirectory(prefix="pulse-video-") as folder:
            path = Path(folder) / "video.mp4"
            try:
                with path.open("wb") as handle:
                    content_type = await adapter.download(data.output, handle)
            except ProviderError as error:
                raise to_application_error(error) from None
            try:
                probe = await asyncio.to_thread(domain.probe, path)
            except domain.InvalidVideoFile as error:
                raise ApplicationError(str(error), type="provider_error", non_retryable=True) from None
            key = object_key(job.user_id, "video", job.job_id, "video.mp4")
            content_type = content_type if content_type.startswith("video/") else "video/mp4"
            size = (await self.storage.put_file(ASSETS, key, path, content_type)).size
        poster_key = object_key(job.user_id, "video", job.job_id, "poster.jpg")
        await self.storage.put(ASSETS, poster_key, probe.poster_jpeg, "image/jpeg")
        stored = domain.StoredVideo(key, poster_key, size, probe.width, probe.height, probe.duration_ms)
        async with self.db.session() as session:
            await domain.record_stored(session, job.job_id, stored)
        await publish_progress(self.bus, job.job_id, "storing", 1, 1)
        return [
            OutputRef("video.mp4", key, content_type, size),
            OutputRef("poster.jpg", poster_key, "image/jpeg", len(probe.poster_jpeg)),
        ]
