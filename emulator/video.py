"""Video providers: Google Veo (``predictLongRunning`` → operation → file download, on ``/v1``
and ``/v1beta``) and Runway (``text_to_video`` / ``image_to_video`` → task → ``DELETE``); Replicate's
video models live in ``emulator.replicate`` (same MP4 maker).

A render lasts ``render_s`` (``POST /_emulator/video``; default the emulator's ``ttft_ms``) or a
``slow`` fault's ``delay_s``; Runway tasks report ``RUNNING`` with a progress in between. Faults
(provider ``veo`` or ``runway``, one per create): ``http_<status>`` on create (429 with
``retry-after``), ``video_failed`` (Veo: an operation error; Runway: ``FAILED``),
``video_filtered`` (Veo: done with ``raiMediaFilteredCount`` and no video), ``never_finish``.
A create takes the emulator's ``create_ms`` (``POST /_emulator/latency``): the render starts and
the answer goes out after it, even to a caller that went away. ``pad_mb`` makes every file that
many MiB larger (a trailing MP4 ``free`` box; still valid).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from emulator.mp4 import make_mp4
from emulator.state import (
    Calls,
    EmulatorState,
    Fault,
    api_key,
    get_state,
    on_reset,
    rejected_key,
    retry_headers,
)

router = APIRouter(tags=["video"])
VEO_MODELS = {
    "veo-3.0-generate-001",
    "veo-3.0-fast-generate-001",
    "veo-3.1-generate-preview",
    "veo-3.1-fast-generate-preview",
}
RUNWAY_TEXT = {"veo3", "veo3.1", "veo3.1_fast"}
RUNWAY_IMAGE = {"gen4_turbo", "gen3a_turbo", "veo3", "veo3.1", "veo3.1_fast"}
RUNWAY_RATIOS = {"1280:720", "720:1280", "1920:1080", "1080:1920", "960:960", "1584:672"}
PAD_CHUNK = 1024 * 1024


@dataclass
class VideoCalls(Calls):
    """``requests`` counts creates; these count the rest."""

    polls: int = 0
    cancels: int = 0
    downloads: int = 0


@dataclass
class Render:
    id: str
    provider: str
    model: str
    duration_s: int
    aspect_ratio: str
    fault: Fault | None
    started: float
    render_s: float
    cancelled: bool = False
    started_wall: float = 0.0  # time.time() at the create (benches compare it with their clock)

    def kind(self) -> str | None:
        return self.fault.kind if self.fault is not None else None

    def progress(self) -> float:
        if self.kind() == "never_finish":
            return min(0.9, (time.monotonic() - self.started) / 60)
        return min(1.0, (time.monotonic() - self.started) / self.render_s) if self.render_s > 0 else 1.0

    @property
    def finished(self) -> bool:
        return self.kind() != "never_finish" and self.progress() >= 1.0


@dataclass
class Config:
    render_s: float | None = None
    pad_mb: int = 0


RENDERS: dict[str, Render] = {}
FILES: dict[str, Render] = {}  # file id → its render
CONFIG = Config()


@on_reset
def _forget() -> None:
    RENDERS.clear()
    FILES.clear()
    CONFIG.render_s, CONFIG.pad_mb = None, 0


def counts(state: EmulatorState, provider: str) -> VideoCalls:
    found = state.calls.get(provider)
    if not isinstance(found, VideoCalls):
        found = state.calls[provider] = VideoCalls()
    return found


def start_render(state: EmulatorState, provider: str, model: str, duration: int, ratio: str) -> Render:
    fault = state.take_fault(provider, model)
    render_s = CONFIG.render_s if CONFIG.render_s is not None else state.ttft_ms / 1000
    if fault is not None and fault.kind == "slow":
        render_s = fault.delay_s
    render = Render(
        uuid.uuid4().hex[:16], provider, model, duration, ratio, fault, time.monotonic(), render_s
    )
    render.started_wall = time.time()
    RENDERS[render.id] = render
    return render


class ConfigIn(BaseModel):
    render_s: float | None = Field(None, ge=0)
    pad_mb: int = Field(0, ge=0, le=1024)


@router.post("/_emulator/video")
async def configure(body: ConfigIn) -> dict[str, Any]:
    CONFIG.render_s, CONFIG.pad_mb = body.render_s, body.pad_mb
    return {"render_s": CONFIG.render_s, "pad_mb": CONFIG.pad_mb}


@router.get("/_emulator/video/renders")
async def renders() -> dict[str, Any]:
    """When each render finished (``done_at``, epoch seconds), for benchmarks."""
    return {
        r.id: {"provider": r.provider, "done_at": r.started_wall + r.render_s, "cancelled": r.cancelled}
        for r in RENDERS.values()
    }


# --- the MP4 files (Veo downloads, Runway and Replicate output URLs) ---


def video_bytes(render: Render) -> bytes:
    return make_mp4(render.duration_s, render.aspect_ratio, len(RENDERS) % 7)


async def padded(data: bytes, pad_mb: int) -> AsyncIterator[bytes]:
    yield data
    if pad_mb:
        size = pad_mb * PAD_CHUNK
        yield (size + 8).to_bytes(4, "big") + b"free"
        for _ in range(pad_mb):
            yield bytes(PAD_CHUNK)


def mp4_response(render: Render) -> Response:
    data = video_bytes(render)
    length = len(data) + (CONFIG.pad_mb * PAD_CHUNK + 8 if CONFIG.pad_mb else 0)
    return StreamingResponse(
        padded(data, CONFIG.pad_mb),
        media_type="video/mp4",
        headers={"content-length": str(length)},
    )


@router.get("/emulator/videos/{render_id}.mp4")
async def video_file(render_id: str, request: Request) -> Response:
    render = RENDERS.get(render_id)
    if render is None or not render.finished or render.cancelled:
        return JSONResponse({"error": "not found"}, status_code=404)
    counts(get_state(request), render.provider).downloads += 1
    return mp4_response(render)


# --- Google Veo (Gemini API) ---


def google_error(
    status: int, message: str, reason: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": status, "message": message, "status": reason}}
    return JSONResponse(body, status_code=status, headers=headers)


def operation_json(render: Render, base_url: str, version: str) -> dict[str, Any]:
    name = f"models/{render.model}/operations/{render.id}"
    if not render.finished:
        return {"name": name}
    kind = render.kind()
    if kind == "video_failed":
        return {
            "name": name,
            "done": True,
            "error": {"code": 13, "message": "Video generation failed (emulated)."},
        }
    if kind == "video_filtered":
        reasons = ["The prompt could not be submitted: it may violate our policies (emulated)."]
        response = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": reasons}
    else:
        FILES[render.id] = render
        uri = f"{base_url}{version}/files/{render.id}:download?alt=media"
        response = {"generatedSamples": [{"video": {"uri": uri}}]}
    body = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"}
    return {"name": name, "done": True, "response": {**body, "generateVideoResponse": response}}


@router.post("/v1beta/models/{model}:predictLongRunning")
@router.post("/v1/models/{model}:predictLongRunning")
async def veo_create(model: str, request: Request) -> Response:
    state = get_state(request)
    counts(state, "veo").requests += 1
    if rejected_key(api_key(request, "x-goog-api-key")):
        return google_error(400, "API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT")
    if model not in VEO_MODELS:
        return google_error(404, f"models/{model} is not found.", "NOT_FOUND")
    body = await request.json()
    instances = body.get("instances") or [{}]
    if not str(instances[0].get("prompt") or "").strip():
        return google_error(400, "A prompt is required.", "INVALID_ARGUMENT")
    params = body.get("parameters") or {}
    peek = next((f for f in state.faults if f.provider == "veo" and f.model in (None, model)), None)
    if peek is not None and peek.status is not None:
        fault = state.take_fault("veo", model)
        assert fault is not None and fault.status is not None
        return google_error(
            fault.status,
            "Resource has been exhausted (e.g. check quota).",
            "RESOURCE_EXHAUSTED",
            retry_headers(fault.retry_after_s),
        )
    await state.creating()
    render = start_render(
        state, "veo", model, int(params.get("durationSeconds") or 8), str(params.get("aspectRatio") or "16:9")
    )
    version = request.url.path.split("/")[1]
    return JSONResponse(operation_json(render, str(request.base_url), version))


@router.get("/v1beta/models/{model}/operations/{operation_id}")
@router.get("/v1/models/{model}/operations/{operation_id}")
async def veo_operation(model: str, operation_id: str, request: Request) -> Response:
    state = get_state(request)
    counts(state, "veo").polls += 1
    render = RENDERS.get(operation_id)
    if render is None or render.model != model:
        return google_error(404, "Operation not found.", "NOT_FOUND")
    return JSONResponse(operation_json(render, str(request.base_url), request.url.path.split("/")[1]))


@router.get("/v1beta/files/{target}")
@router.get("/v1/files/{target}")
async def veo_download(target: str, request: Request) -> Response:
    file_id, _, method = target.partition(":")
    render = FILES.get(file_id)
    if method != "download" or render is None:
        return google_error(404, "File not found.", "NOT_FOUND")
    counts(get_state(request), "veo").downloads += 1
    return mp4_response(render)


# --- Runway ---


def runway_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def runway_create(request: Request, models: set[str], image: bool) -> Response:
    state = get_state(request)
    calls = counts(state, "runway")
    calls.requests += 1
    if rejected_key(api_key(request, "authorization")):
        return runway_error(401, "Invalid API key")
    if not request.headers.get("x-runway-version"):
        return runway_error(400, "X-Runway-Version header is required")
    body = await request.json()
    model = str(body.get("model") or "")
    if model not in models:
        return runway_error(400, f"Invalid model: {model}")
    if str(body.get("ratio") or "") not in RUNWAY_RATIOS:
        return runway_error(400, f"Invalid ratio: {body.get('ratio')}")
    if image and not body.get("promptImage"):
        return runway_error(400, "promptImage is required")
    if not image and not str(body.get("promptText") or "").strip():
        return runway_error(400, "promptText is required")
    peek = next((f for f in state.faults if f.provider == "runway" and f.model in (None, model)), None)
    if peek is not None and peek.status is not None:
        fault = state.take_fault("runway", model)
        assert fault is not None and fault.status is not None
        return runway_error(fault.status, "Too many requests", retry_headers(fault.retry_after_s))
    await state.creating()
    render = start_render(state, "runway", model, int(body.get("duration") or 5), str(body["ratio"]))
    return JSONResponse({"id": render.id})


@router.post("/v1/text_to_video")
async def runway_text_to_video(request: Request) -> Response:
    return await runway_create(request, RUNWAY_TEXT, image=False)


@router.post("/v1/image_to_video")
async def runway_image_to_video(request: Request) -> Response:
    return await runway_create(request, RUNWAY_IMAGE, image=True)


def task_json(render: Render, base_url: str) -> dict[str, Any]:
    created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    task: dict[str, Any] = {"id": render.id, "createdAt": created}
    if render.cancelled:
        return {**task, "status": "CANCELLED"}
    if not render.finished:
        progress = render.progress()
        return (
            {**task, "status": "RUNNING", "progress": round(progress, 2)}
            if progress > 0
            else {**task, "status": "PENDING"}
        )
    if render.kind() == "video_failed":
        return {
            **task,
            "status": "FAILED",
            "failure": "An unexpected error occurred (emulated).",
            "failureCode": "INTERNAL",
        }
    return {**task, "status": "SUCCEEDED", "output": [f"{base_url}emulator/videos/{render.id}.mp4"]}


@router.get("/v1/tasks/{task_id}")
async def runway_task(task_id: str, request: Request) -> Response:
    counts(get_state(request), "runway").polls += 1
    render = RENDERS.get(task_id)
    if render is None or render.provider != "runway":
        return runway_error(404, "Task not found")
    return JSONResponse(task_json(render, str(request.base_url)))


@router.delete("/v1/tasks/{task_id}")
async def runway_delete(task_id: str, request: Request) -> Response:
    counts(get_state(request), "runway").cancels += 1
    render = RENDERS.get(task_id)
    if render is None or render.provider != "runway":
        return runway_error(404, "Task not found")
    render.cancelled = True
    return Response(status_code=204)
