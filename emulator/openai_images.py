"""OpenAI images: ``/v1/images/generations`` (JSON) and ``/v1/images/edits`` (multipart).

gpt-image-1 always answers base64 (``b64_json``) with a ``usage`` block. A prompt containing
``emulator-refuse`` (or a queued ``refusal`` fault) is refused like the real safety system:
400 ``moderation_blocked``.
"""

from __future__ import annotations

import base64
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from emulator import imaging
from emulator.openai import PROVIDER, error, fault_response
from emulator.state import api_key, get_state, rejected_key

router = APIRouter(tags=["openai-images"])
MODELS = ("gpt-image-1", "gpt-image-1-mini", "dall-e-3", "dall-e-2")
SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto", "256x256", "512x512"}
REFUSE_PHRASE = "emulator-refuse"
MAX_N = 10


def refused() -> JSONResponse:
    message = (
        "Your request was rejected as a result of our safety system. Your request may contain "
        "content that is not allowed by our safety system."
    )
    body = {
        "message": message,
        "type": "image_generation_user_error",
        "param": None,
        "code": "moderation_blocked",
    }
    return JSONResponse({"error": body}, status_code=400)


def parse_size(size: str) -> tuple[int, int]:
    if size == "auto":
        return 1024, 1024
    width, _, height = size.partition("x")
    return int(width), int(height)


def check(model: str, prompt: str, size: str, n: int) -> JSONResponse | None:
    if not model:
        return error(400, "you must provide a model parameter", param="model")
    if model not in MODELS:
        return error(400, f"Invalid value: '{model}'. Value must be one of {list(MODELS)}.", param="model")
    if not prompt.strip():
        return error(400, "You must provide a prompt.", param="prompt")
    if size not in SIZES:
        return error(400, f"Invalid value: '{size}'. Supported values are: {sorted(SIZES)}.", param="size")
    if not 1 <= n <= MAX_N:
        return error(400, f"Invalid 'n': must be between 1 and {MAX_N}.", param="n")
    return None


def answer(
    images: list[bytes], prompt: str, size: str, fmt: str, quality: str, background: str
) -> JSONResponse:
    tokens = max(1, len(prompt.split()))
    return JSONResponse(
        {
            "created": int(time.time()),
            "data": [{"b64_json": base64.b64encode(image).decode()} for image in images],
            "usage": {
                "input_tokens": tokens,
                "input_tokens_details": {"text_tokens": tokens, "image_tokens": 0},
                "output_tokens": 272 * len(images),
                "total_tokens": tokens + 272 * len(images),
            },
            "background": background,
            "output_format": fmt,
            "quality": quality,
            "size": size,
        }
    )


async def gate(request: Request, model: str, prompt: str) -> Response | None:
    """Auth, faults and refusals shared by both routes (the request is counted here)."""
    state = get_state(request)
    state.record_request(PROVIDER)
    if rejected_key(api_key(request, "authorization")):
        return error(401)
    fault = state.take_fault(PROVIDER, model)
    if fault is not None and fault.kind == "refusal":
        return refused()
    if fault is not None and fault.status is not None:
        return fault_response(fault)
    if REFUSE_PHRASE in prompt.lower():
        return refused()
    return None


@router.post("/v1/images/generations")
async def generations(request: Request) -> Response:
    try:
        body: dict[str, Any] = await request.json()
    except ValueError:
        return error(400, "We could not parse the JSON body of your request.")
    model, prompt = str(body.get("model") or "dall-e-2"), str(body.get("prompt") or "")
    size, n = str(body.get("size") or "1024x1024"), int(body.get("n") or 1)
    blocked = await gate(request, model, prompt)
    if blocked is not None:
        return blocked
    problem = check(model, prompt, size, n)
    if problem is not None:
        return problem
    fmt = str(body.get("output_format") or "png")
    width, height = parse_size(size)
    images = [imaging.generate(prompt, width, height, fmt, index) for index in range(n)]
    quality, background = str(body.get("quality") or "auto"), str(body.get("background") or "auto")
    return answer(images, prompt, f"{width}x{height}", fmt, quality, background)


@router.post("/v1/images/edits")
async def edits(request: Request) -> Response:
    form = await request.form()
    model, prompt = str(form.get("model") or "dall-e-2"), str(form.get("prompt") or "")
    size, n = str(form.get("size") or "auto"), int(str(form.get("n") or 1))
    blocked = await gate(request, model, prompt)
    if blocked is not None:
        return blocked
    problem = check(model, prompt, size, n)
    if problem is not None:
        return problem
    files = [
        item for key in ("image", "image[]") for item in form.getlist(key) if isinstance(item, UploadFile)
    ]
    if not files:
        return error(400, "You must provide at least one image.", param="image")
    sources = [await item.read() for item in files]
    mask_file = form.get("mask")
    mask = await mask_file.read() if isinstance(mask_file, UploadFile) else None
    try:
        first = imaging.size_of(sources[0])
        if mask is not None and imaging.size_of(mask) != first:
            return error(400, "The mask must have the same dimensions as the image.", param="mask")
    except OSError:
        return error(400, "Invalid image file: the image could not be read.", param="image")
    target = first if size == "auto" else parse_size(size)
    fmt = str(form.get("output_format") or "png")
    images = [imaging.edit(prompt, sources[0], mask, target, fmt, index) for index in range(n)]
    return answer(images, prompt, f"{target[0]}x{target[1]}", fmt, str(form.get("quality") or "auto"), "auto")
