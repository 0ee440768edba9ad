"""Replicate video models: a prediction like an image one (the same client, webhook route and
status mapping from ``providers.images``); the output is one MP4 URI streamed to a file."""

from __future__ import annotations

import base64
from typing import IO, Any

from providers.images.client import ImageClient
from providers.images.replicate_images import caught, classify, pipeline_status
from providers.video.runway import stream_to
from providers.video.types import RenderState, VideoRequest


def prediction_input(request: VideoRequest) -> dict[str, Any]:
    params: dict[str, Any] = {
        "prompt": request.prompt,
        "duration": request.duration_s,
        "aspect_ratio": request.aspect_ratio,
        "resolution": request.resolution,
    }
    if request.first_frame is not None:
        encoded = base64.b64encode(request.first_frame).decode()
        params["image"] = f"data:{request.first_frame_type};base64,{encoded}"
    return params


class ReplicateVideos:
    def __init__(self, images: ImageClient) -> None:
        self.images = images

    async def submit(self, request: VideoRequest) -> str:
        extra: dict[str, Any] = {}
        if request.webhook_url:
            extra = {"webhook": request.webhook_url, "webhook_events_filter": ["completed"]}
        try:
            prediction = await self.images.replicate_client().predictions.async_create(
                model=request.provider_model, input=prediction_input(request), **extra
            )
        except caught() as error:
            raise classify(error) from error
        return str(prediction.id)

    async def get(self, prediction_id: str) -> RenderState:
        state = await self.images.prediction(prediction_id)
        status, code = pipeline_status(state)
        return RenderState(state.id, status, state.outputs[0] if state.outputs else None, error=code)

    async def cancel(self, prediction_id: str) -> bool:
        await self.images.cancel(prediction_id)
        return True

    async def download(self, output: str, destination: IO[bytes]) -> str:
        return await stream_to(self.images.http(), output, destination, "replicate")
