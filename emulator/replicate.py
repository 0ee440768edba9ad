"""Replicate: predictions (create by model or version, get, cancel), the default webhook
secret, output files, and outbound webhooks signed like Replicate's (Svix: ``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``).

A prediction runs for the emulator's ``ttft_ms`` (or a fault's ``delay_s``), then ends
``succeeded`` with output URLs served here. Faults for provider ``replicate`` (one per create):
``http_<status>`` on create, ``slow`` (runs ``delay_s``), ``refusal`` (ends ``failed`` with an
NSFW error), ``prediction_failed``, ``webhook_lost`` (never sent), ``webhook_duplicate``
(delivered ``copies`` times), ``webhook_slow`` (sent ``delay_s`` after the end). A prompt with
``emulator-refuse`` is refused too. A create takes the emulator's ``create_ms`` before the
prediction exists and is answered. Outputs: flux-schnell an array of URIs, editing models one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from emulator import imaging
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

router = APIRouter(tags=["replicate"])
PROVIDER = "replicate"
SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"pulse-emulator-replicate").digest()).decode()
REFUSE_PHRASE = "emulator-refuse"
NSFW_ERROR = "NSFW content detected. Try running it again, or try a different prompt."
TERMINAL = {"succeeded", "failed", "canceled", "aborted"}
GENERATORS = {"black-forest-labs/flux-schnell", "black-forest-labs/flux-dev"}
EDITORS = {"black-forest-labs/flux-kontext-pro", "black-forest-labs/flux-kontext-dev"}
VIDEO_MODELS = {"bytedance/seedance-1-lite", "bytedance/seedance-1-pro"}  # one MP4 URI out
ASPECTS = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "3:4": (896, 1152),
    "4:3": (1152, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}
WEBHOOK_RETRIES = (0.5, 1.0, 2.0)  # seconds between attempts of an undelivered final webhook


@dataclass
class ReplicateCalls(Calls):
    """``requests`` counts prediction creates; these count the rest."""

    polls: int = 0  # GET /v1/predictions/{id}
    cancels: int = 0  # POST /v1/predictions/{id}/cancel
    webhooks: int = 0  # outbound webhook deliveries attempted


def counts(state: EmulatorState) -> ReplicateCalls:
    found = state.calls.get(PROVIDER)
    if not isinstance(found, ReplicateCalls):
        found = state.calls[PROVIDER] = ReplicateCalls()
    return found


@dataclass
class Prediction:
    id: str
    model: str
    input: dict[str, Any]
    base_url: str
    webhook: str | None
    fault: Fault | None
    status: str = "starting"
    created_at: str = ""
    completed_at: str | None = None
    error: str | None = None
    files: list[bytes] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def output(self) -> Any:
        if self.status != "succeeded":
            return None
        fmt = str(self.input.get("output_format") or ("webp" if self.model in GENERATORS else "png"))
        fmt = "mp4" if self.model in VIDEO_MODELS else fmt
        urls = [f"{self.base_url}replicate/files/{self.id}/out-{i}.{fmt}" for i in range(len(self.files))]
        return urls if self.model in GENERATORS else urls[0]

    def to_json(self) -> dict[str, Any]:
        get = f"{self.base_url}v1/predictions/{self.id}"
        return {
            "id": self.id,
            "model": self.model,
            "version": "emulator",
            "input": self.input,
            "output": self.output(),
            "logs": "",
            "error": self.error,
            "status": self.status,
            "created_at": self.created_at,
            "started_at": self.created_at,
            "completed_at": self.completed_at,
            "data_removed": False,
            "urls": {"get": get, "cancel": f"{get}/cancel", "web": f"https://replicate.com/p/{self.id}"},
            "metrics": {"predict_time": 0.01} if self.status == "succeeded" else {},
        }


PREDICTIONS: dict[str, Prediction] = {}
BACKGROUND: set[asyncio.Task[None]] = set()


@on_reset
def _forget() -> None:
    for task in list(BACKGROUND):
        task.cancel()
    BACKGROUND.clear()
    PREDICTIONS.clear()


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    titles = {
        401: "Unauthenticated",
        404: "Not found",
        422: "Input validation failed",
        429: "Too Many Requests",
    }
    body = {"type": "about:blank", "title": titles.get(status, "Error"), "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def sign(webhook_id: str, timestamp: str, body: str, secret: str = SECRET) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def authorised(request: Request) -> bool:
    return not rejected_key(api_key(request, "authorization"))


async def source_image(value: str) -> bytes:
    if value.startswith("data:"):
        return base64.b64decode(value.split(",", 1)[1])
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(value)
        response.raise_for_status()
        return response.content


async def render(prediction: Prediction) -> list[bytes]:
    params = prediction.input
    prompt = str(params.get("prompt") or "")
    fmt = str(params.get("output_format") or ("webp" if prediction.model in GENERATORS else "png"))
    aspect = str(params.get("aspect_ratio") or "1:1")
    if prediction.model in VIDEO_MODELS:
        return [make_mp4(int(params.get("duration") or 5), str(params.get("aspect_ratio") or "16:9"))]
    if prediction.model in EDITORS:
        source = await source_image(str(params["input_image"]))
        size = imaging.size_of(source) if aspect == "match_input_image" else ASPECTS[aspect]
        return [imaging.edit(prompt, source, None, size, fmt)]
    width, height = ASPECTS[aspect]
    count = int(params.get("num_outputs") or 1)
    return [imaging.generate(prompt, width, height, fmt, index) for index in range(count)]


async def run(state: EmulatorState, prediction: Prediction) -> None:
    """Run the prediction to its end, then deliver the final webhook (as the fault says)."""
    fault = prediction.fault
    kind = fault.kind if fault is not None else None
    await asyncio.sleep(fault.delay_s if fault is not None and kind == "slow" else state.ttft_ms / 1000)
    prediction.status = "processing"
    if kind == "refusal" or REFUSE_PHRASE in str(prediction.input.get("prompt") or "").lower():
        prediction.status, prediction.error = "failed", NSFW_ERROR
    elif kind == "prediction_failed":
        prediction.status, prediction.error = "failed", "CUDA error: out of memory (emulated)"
    else:
        try:
            prediction.files = await render(prediction)
            prediction.status = "succeeded"
        except (OSError, KeyError, ValueError, httpx.HTTPError) as exc:
            prediction.status, prediction.error = "failed", f"invalid input: {exc}"
    prediction.completed_at = now()
    await finish(state, prediction)


async def finish(state: EmulatorState, prediction: Prediction) -> None:
    fault = prediction.fault
    kind = fault.kind if fault is not None else None
    if prediction.webhook is None or kind == "webhook_lost":
        return
    if kind == "webhook_slow" and fault is not None:
        await asyncio.sleep(fault.delay_s)
    copies = fault.copies if kind == "webhook_duplicate" and fault is not None else 1
    webhook_id = f"msg_{uuid.uuid4().hex}"
    for _ in range(copies):
        await deliver(state, prediction, webhook_id)


async def deliver(state: EmulatorState, prediction: Prediction, webhook_id: str) -> None:
    body = json.dumps(prediction.to_json())
    async with httpx.AsyncClient(timeout=10) as http:
        for pause in (*WEBHOOK_RETRIES, None):
            timestamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "webhook-id": webhook_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": sign(webhook_id, timestamp, body),
            }
            counts(state).webhooks += 1
            with contextlib.suppress(httpx.HTTPError):
                response = await http.post(str(prediction.webhook), content=body, headers=headers)
                if response.is_success:
                    return
            if pause is None:
                return
            await asyncio.sleep(pause)


def spawn(coro: Any) -> asyncio.Task[None]:
    task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
    BACKGROUND.add(task)
    task.add_done_callback(BACKGROUND.discard)
    return task


def validate(model: str, params: dict[str, Any]) -> str | None:
    if model in VIDEO_MODELS:
        if not 2 <= int(params.get("duration") or 5) <= 12:
            return "input.duration: must be between 2 and 12"
        return None if str(params.get("prompt") or "").strip() else "input: prompt is required"
    if model not in GENERATORS | EDITORS:
        return f"The specified model does not exist: {model}"
    if not str(params.get("prompt") or "").strip():
        return "input: prompt is required"
    aspect = str(params.get("aspect_ratio") or "1:1")
    if aspect not in ASPECTS and not (model in EDITORS and aspect == "match_input_image"):
        return f"input.aspect_ratio: must be one of {sorted(ASPECTS)}"
    if model in GENERATORS and not 1 <= int(params.get("num_outputs") or 1) <= 4:
        return "input.num_outputs: must be between 1 and 4"
    if model in EDITORS and not params.get("input_image"):
        return "input: input_image is required"
    return None


async def create(request: Request, model: str) -> Response:
    state = get_state(request)
    counts(state).requests += 1
    if not authorised(request):
        return problem(401, "You did not pass a valid authentication token")
    fault = state.take_fault(PROVIDER, model)
    if fault is not None and fault.status is not None:
        status = 503 if fault.status == 529 else fault.status
        detail = (
            "Request was throttled. Your rate limit resets in ~30s." if status == 429 else "Internal error"
        )
        return problem(status, detail, retry_headers(fault.retry_after_s))
    body = await request.json()
    params = body.get("input") or {}
    invalid = validate(model, params)
    if invalid is not None:
        return problem(404 if invalid.startswith("The specified model") else 422, invalid)
    await state.creating()
    prediction = Prediction(
        id=uuid.uuid4().hex[:26],
        model=model,
        input=params,
        base_url=str(request.base_url),
        webhook=body.get("webhook"),
        fault=fault,
        created_at=now(),
    )
    PREDICTIONS[prediction.id] = prediction
    prediction.task = spawn(run(state, prediction))
    return JSONResponse(prediction.to_json(), status_code=201)


@router.post("/v1/models/{owner}/{name}/predictions")
async def create_for_model(owner: str, name: str, request: Request) -> Response:
    return await create(request, f"{owner}/{name}")


@router.post("/v1/predictions")
async def create_for_version(request: Request) -> Response:
    body = await request.json()
    version = str(body.get("version") or "")
    model = version.split(":", 1)[0] if "/" in version else "black-forest-labs/flux-schnell"
    return await create(request, model)


@router.get("/v1/predictions/{prediction_id}")
async def get_prediction(prediction_id: str, request: Request) -> Response:
    state = get_state(request)
    counts(state).polls += 1
    if not authorised(request):
        return problem(401, "You did not pass a valid authentication token")
    prediction = PREDICTIONS.get(prediction_id)
    if prediction is None:
        return problem(404, "Not found.")
    return JSONResponse(prediction.to_json())


@router.post("/v1/predictions/{prediction_id}/cancel")
async def cancel_prediction(prediction_id: str, request: Request) -> Response:
    state = get_state(request)
    counts(state).cancels += 1
    if not authorised(request):
        return problem(401, "You did not pass a valid authentication token")
    prediction = PREDICTIONS.get(prediction_id)
    if prediction is None:
        return problem(404, "Not found.")
    if prediction.status not in TERMINAL:
        if prediction.task is not None:
            prediction.task.cancel()
        prediction.status, prediction.completed_at = "canceled", now()
        spawn(finish(state, prediction))
    return JSONResponse(prediction.to_json())


@router.get("/v1/webhooks/default/secret")
async def webhook_secret(request: Request) -> Response:
    if not authorised(request):
        return problem(401, "You did not pass a valid authentication token")
    return JSONResponse({"key": SECRET})


@router.get("/replicate/files/{prediction_id}/{name}")
async def output_file(prediction_id: str, name: str) -> Response:
    prediction = PREDICTIONS.get(prediction_id)
    stem, _, ext = name.partition(".")
    index = stem.removeprefix("out-")
    if prediction is None or not index.isdigit() or int(index) >= len(prediction.files):
        return problem(404, "Not found.")
    return Response(
        prediction.files[int(index)],
        media_type=imaging.MIME.get(ext, "video/mp4" if ext == "mp4" else "application/octet-stream"),
    )
