"""The video studio API: ``GET /v1/videos/models``, ``POST /v1/videos`` (202, a durable job),
``GET /v1/videos``, ``GET/DELETE /v1/videos/{id}`` with short-lived signed links (the local
backend's download route and S3 both answer HTTP range requests, so players can seek).

Progress, outcome and cancel also go through the one job API (``/v1/jobs/{id}``, ``/events``,
``/cancel``); a video's id is its job's id."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, SessionDep, SettingsDep, StorageDep, TemporalDep
from api.images.routes import webhook_url
from api.jobs.routes import absolute
from api.videos.schemas import (
    VideoCreate,
    VideoError,
    VideoJobCreated,
    VideoModelList,
    VideoModelPublic,
    VideoOut,
    VideoPage,
)
from core import files, jobs
from core import images as image_domain
from core import videos as domain
from core.models import Job, JobStatus, StoredFile, Video
from core.models.base import new_id
from core.settings import Settings
from core.video_catalog import VideoModel, available_video_models, resolve_video_model
from providers.storage import ASSETS, Storage
from workflows import MEDIA, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_MODEL, PULSE_PROVIDER, PULSE_USER_ID
from workflows.video import VideoJobInput, VideoJobWorkflow, video_workflow_id

router = APIRouter(prefix="/v1/videos", tags=["videos"])
FIRST_FRAME_TYPES = {"image/png", "image/jpeg", "image/webp"}


class FirstFrameInvalid(domain.InvalidVideoRequest):
    code = "invalid_first_frame"

    def __init__(self) -> None:
        super().__init__("The first frame must be a PNG, JPEG or WebP image.")


def model_public(model: VideoModel, locale: str) -> VideoModelPublic:
    return VideoModelPublic(
        id=model.id,
        provider=model.provider,
        name=model.display_name(locale),
        durations=list(model.durations),
        default_duration=model.default_duration,
        aspect_ratios=list(model.aspect_ratios),
        default_aspect_ratio=model.default_aspect_ratio,
        resolution=model.resolution,
        text_to_video=model.text_to_video,
        image_to_video=model.image_to_video,
        cost=model.cost,
    )


@router.get("/models", response_model=VideoModelList)
async def list_video_models(settings: SettingsDep, locale: LocaleDep) -> VideoModelList:
    return VideoModelList(models=[model_public(m, locale) for m in available_video_models(settings)])


async def first_frame(
    body: VideoCreate, session: AsyncSession, user_id: str
) -> tuple[str | None, str, list[StoredFile]]:
    """The first frame's storage key and type, and the uploaded file to attach to the job."""
    if body.first_frame_file_id:
        upload = await files.ready_file(session, user_id, body.first_frame_file_id)
        if upload.content_type not in FIRST_FRAME_TYPES:
            raise FirstFrameInvalid()
        return upload.key, upload.content_type, [upload]
    if body.first_frame_image_id:
        image = await image_domain.owned_image(session, user_id, body.first_frame_image_id)
        return image.key, image.content_type, []
    return None, "image/png", []


def job_input(
    spec: domain.VideoSpec, settings: Settings, job_id: str, user_id: str, locale: str
) -> VideoJobInput:
    model = spec.model
    return VideoJobInput(
        job_id=job_id,
        user_id=user_id,
        model=model.id,
        provider=model.provider,
        provider_model=model.provider_model,
        prompt=spec.prompt,
        duration_s=spec.duration_s,
        aspect_ratio=model.aspect_ratios[spec.aspect_ratio],
        resolution=model.resolution,
        cost=model.cost,
        locale=locale,
        first_poll_s=settings.video_poll_initial_seconds or model.first_poll_s,
        max_poll_s=settings.video_poll_max_seconds or model.max_poll_s,
        ceiling_s=settings.video_ceiling_seconds or model.ceiling_s,
        email_after_s=settings.video_ready_email_after_seconds,
    )


@router.post("", status_code=202, response_model=VideoJobCreated)
async def create_video_job(
    body: VideoCreate,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> VideoJobCreated:
    model = resolve_video_model(body.model, settings)
    frame_key, frame_type, uploads = await first_frame(body, session, user.id)
    spec = domain.check_request(
        model, body.prompt, body.duration, body.aspect_ratio, from_image=frame_key is not None
    )
    job_id = new_id()
    workflow_id = video_workflow_id(job_id)
    await jobs.ensure_job(session, job_id=job_id, user_id=user.id, kind="video", workflow_id=workflow_id)
    await domain.create_video(session, job_id, user.id, spec)
    await files.attach_to_job(session, job_id, uploads)
    await session.commit()
    data = job_input(spec, settings, job_id, user.id, locale)
    data.first_frame_key, data.first_frame_type = frame_key, frame_type
    data.notify_to, data.link = user.email, f"{settings.public_url.rstrip('/')}/video"
    data.webhook_url = webhook_url(request, settings) if model.provider == "replicate" else None
    try:
        await client.start_workflow(
            VideoJobWorkflow.run,
            data,
            id=workflow_id,
            task_queue=settings.task_queue(MEDIA),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, user.id),
                    SearchAttributePair(PULSE_JOB_KIND, "video"),
                    SearchAttributePair(PULSE_PROVIDER, model.provider),
                    SearchAttributePair(PULSE_MODEL, model.id),
                    SearchAttributePair(PULSE_JOB_STATUS, "running"),
                ]
            ),
            static_summary=f"video · {model.provider} · {model.id} · {spec.duration_s}s {spec.aspect_ratio}",
        )
    except Exception:
        await jobs.fail_unstarted(session, job_id)  # a row the sweeper failed keeps its outcome
        await session.commit()
        raise
    return VideoJobCreated(
        job_id=job_id, events_url=f"/v1/jobs/{job_id}/events", status_url=f"/v1/videos/{job_id}"
    )


async def video_out(
    request: Request, video: Video, job: Job, storage: Storage, settings: Settings, locale: str
) -> VideoOut:
    ttl = settings.storage_download_ttl_seconds

    async def link(key: str, name: str, content_type: str, *, inline: bool) -> str:
        url = await storage.signed_get_url(
            ASSETS, key, filename=name, content_type=content_type, expires_in=ttl, inline=inline
        )
        return absolute(request, url)

    out = VideoOut(
        id=video.id,
        status=job.status,
        model=video.model,
        provider=video.provider,
        prompt=video.prompt,
        duration_s=video.duration_s,
        aspect_ratio=video.aspect_ratio,
        events_url=f"/v1/jobs/{video.id}/events",
        created_at=video.created_at,
    )
    if job.status == JobStatus.failed.value or job.status == JobStatus.cancelled.value:
        out.error = VideoError(
            code=job.error_code or "provider_error", message=jobs.job_error_message(job, locale)
        )
    if job.status == JobStatus.succeeded.value and video.key and video.poster_key:
        name = f"video-{video.id}.mp4"
        out.url = await link(video.key, name, "video/mp4", inline=True)
        out.download_url = await link(video.key, name, "video/mp4", inline=False)
        out.poster_url = await link(video.poster_key, f"poster-{video.id}.jpg", "image/jpeg", inline=True)
        out.size, out.width, out.height = video.size, video.width, video.height
        out.duration_ms = video.duration_ms
    return out


@router.get("", response_model=VideoPage)
async def list_user_videos(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    locale: LocaleDep,
    before: datetime | None = Query(None),
    limit: int = Query(24, ge=1, le=domain.PAGE_MAX),
) -> VideoPage:
    rows = await domain.list_videos(session, user.id, before=before, limit=limit)
    videos = [await video_out(request, video, job, storage, settings, locale) for video, job in rows]
    return VideoPage(videos=videos, next_before=rows[-1][0].created_at if len(rows) == limit else None)


@router.get("/{video_id}", response_model=VideoOut)
async def get_video(
    video_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    locale: LocaleDep,
) -> VideoOut:
    video, job = await domain.owned_video(session, user.id, video_id)
    return await video_out(request, video, job, storage, settings, locale)


@router.delete("/{video_id}", status_code=204)
async def delete_video(
    video_id: str, user: CurrentUser, session: SessionDep, storage: StorageDep, client: TemporalDep
) -> Response:
    """Delete the video (a render still running is cancelled first, at the provider too)."""
    video, job = await domain.owned_video(session, user.id, video_id)
    if job.status in (JobStatus.pending.value, JobStatus.running.value):
        await client.get_workflow_handle(job.workflow_id).cancel()
    await domain.delete_video(session, user.id, video_id)
    await session.commit()
    for key in (video.key, video.poster_key):
        if key:
            await storage.delete(ASSETS, key)
    return Response(status_code=204)
