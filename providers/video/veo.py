"""Google Veo on the Gemini API: ``predictLongRunning`` → operation name (the provider job id)
→ ``operations.get`` until ``done`` → ``files.download`` streamed to a file.

google-genai 3.x refuses ``models.generate_videos`` outside Vertex AI, though the Gemini API
still serves ``predictLongRunning``: the create goes through the SDK's own request method (same
auth, base URL, timeouts and errors); polling and download are the SDK's public calls. A done
operation with ``raiMediaFilteredCount`` and no video is a refusal. The Gemini API has no
cancel for a video operation: a cancelled render is abandoned (nothing of it is billed to us
beyond what Google bills; we release the person's hold)."""

from __future__ import annotations

import base64
import json
import re
from typing import IO, TYPE_CHECKING, Any

from providers.llm.google_chat import caught, classify
from providers.video.types import RenderState, VideoRequest

if TYPE_CHECKING:
    from google import genai


def veo_body(request: VideoRequest) -> dict[str, Any]:
    instance: dict[str, Any] = {"prompt": request.prompt}
    if request.first_frame is not None:
        encoded = base64.b64encode(request.first_frame).decode()
        instance["image"] = {"bytesBase64Encoded": encoded, "mimeType": request.first_frame_type}
    parameters = {
        "aspectRatio": request.aspect_ratio,
        "durationSeconds": request.duration_s,
        "resolution": request.resolution,
        "sampleCount": 1,
    }
    return {"instances": [instance], "parameters": parameters}


def state_of(operation: Any) -> RenderState:
    name = str(operation.name)
    if not operation.done:
        return RenderState(name, "running")
    if operation.error:
        return RenderState(name, "failed", error="provider_error")
    response = operation.response
    videos = (response.generated_videos if response is not None else None) or []
    if videos and videos[0].video is not None and videos[0].video.uri:
        return RenderState(name, "succeeded", output=str(videos[0].video.uri), progress=1.0)
    if response is not None and (response.rai_media_filtered_count or 0) > 0:
        return RenderState(name, "failed", error="content_refused")
    return RenderState(name, "failed", error="provider_error")


def file_name(uri: str) -> str:
    """``files/<id>`` from a video uri (the SDK parses only ``https://`` uris itself)."""
    match = re.search(r"files/([a-z0-9]+)", uri)
    return f"files/{match.group(1)}" if match else uri


class VeoVideos:
    def __init__(self, client: genai.Client) -> None:
        self.client = client

    async def submit(self, request: VideoRequest) -> str:
        try:
            response = await self.client.aio._api_client.async_request(
                "post", f"models/{request.provider_model}:predictLongRunning", veo_body(request)
            )
        except caught() as error:
            raise classify(error) from error
        return str(json.loads(response.body or "{}")["name"])

    async def get(self, operation_name: str) -> RenderState:
        from google.genai import types

        try:
            operation = await self.client.aio.operations.get(
                types.GenerateVideosOperation.model_validate({"name": operation_name})
            )
        except caught() as error:
            raise classify(error) from error
        return state_of(operation)

    async def cancel(self, operation_name: str) -> bool:
        return False  # no cancel on the Gemini API: abandoned

    async def download(self, output: str, destination: IO[bytes]) -> str:
        try:
            await self.client.aio.files.download(file=file_name(output), destination=destination)  # type: ignore[call-overload]
        except caught() as error:
            raise classify(error) from error
        return "video/mp4"
