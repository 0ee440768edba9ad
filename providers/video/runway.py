"""Runway (``runwayml`` SDK): ``text_to_video`` / ``image_to_video`` → task id → ``tasks.retrieve``
until ``SUCCEEDED`` / ``FAILED`` / ``CANCELLED`` (Runway sends no completion webhook: we poll,
``RUNNING`` carries a progress) → the output URL streamed to a file; ``tasks.delete`` cancels.
SDK retries are off (``max_retries=0``): Temporal owns retries."""

from __future__ import annotations

import base64
from typing import IO, TYPE_CHECKING, Any

import httpx

from providers.llm.errors import (
    TRANSPORT_ERRORS,
    ProviderError,
    RetryableProviderError,
    by_status,
    retry_after_from,
)
from providers.video.types import RenderState, VideoRequest

if TYPE_CHECKING:
    from runwayml import AsyncRunwayML

PROVIDER = "runway"
STATUSES = {"PENDING": "queued", "THROTTLED": "queued", "RUNNING": "running", "SUCCEEDED": "succeeded"}
CHUNK = 1024 * 1024
DOWNLOAD_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, *TRANSPORT_ERRORS)


def caught() -> tuple[type[Exception], ...]:
    import runwayml

    return (runwayml.APIError, httpx.HTTPError, *TRANSPORT_ERRORS)


def classify(error: Exception) -> ProviderError:
    import runwayml

    if isinstance(error, runwayml.APIStatusError):
        headers = dict(error.response.headers)
        return by_status(str(error), PROVIDER, error.status_code, None, retry_after_from(headers))
    return RetryableProviderError(str(error) or "connection error", PROVIDER, None, "connection_error")


def state_of(task: Any) -> RenderState:
    status = str(task.status)
    if status in STATUSES:
        output = task.output[0] if status == "SUCCEEDED" and getattr(task, "output", None) else None
        progress = getattr(task, "progress", None)
        return RenderState(str(task.id), STATUSES[status], output, float(progress) if progress else None)
    if status == "CANCELLED":
        return RenderState(str(task.id), "canceled")
    code = str(getattr(task, "failure_code", "") or "")
    refused = code.startswith("SAFETY") or "moderation" in code.lower()
    return RenderState(str(task.id), "failed", error="content_refused" if refused else "provider_error")


class RunwayVideos:
    def __init__(self, client: AsyncRunwayML, http: httpx.AsyncClient) -> None:
        self.client = client
        self.http = http

    async def submit(self, request: VideoRequest) -> str:
        params: dict[str, Any] = {
            "model": request.provider_model,
            "ratio": request.aspect_ratio,
            "duration": request.duration_s,
            "prompt_text": request.prompt,
        }
        try:
            if request.first_frame is not None:
                encoded = base64.b64encode(request.first_frame).decode()
                image = f"data:{request.first_frame_type};base64,{encoded}"
                task = await self.client.image_to_video.create(prompt_image=image, **params)
            else:
                task = await self.client.text_to_video.create(**params)
        except caught() as error:
            raise classify(error) from error
        return str(task.id)

    async def get(self, task_id: str) -> RenderState:
        try:
            return state_of(await self.client.tasks.retrieve(task_id))
        except caught() as error:
            raise classify(error) from error

    async def cancel(self, task_id: str) -> bool:
        try:
            await self.client.tasks.delete(task_id)
        except caught() as error:
            raise classify(error) from error
        return True

    async def download(self, output: str, destination: IO[bytes]) -> str:
        return await stream_to(self.http, output, destination, PROVIDER)


async def stream_to(http: httpx.AsyncClient, url: str, destination: IO[bytes], provider: str) -> str:
    """GET ``url`` into ``destination`` one chunk at a time; its content type."""
    try:
        async with http.stream("GET", url) as response:
            if response.status_code >= 400:
                raise by_status(
                    f"download failed: {response.status_code}", provider, response.status_code, None, None
                )
            async for chunk in response.aiter_bytes(CHUNK):
                destination.write(chunk)
            return str(response.headers.get("content-type", "video/mp4")).split(";")[0]
    except DOWNLOAD_ERRORS as error:
        raise RetryableProviderError(
            str(error) or "download failed", provider, None, "connection_error"
        ) from error
