"""Gemini image output ("Nano Banana"): ``generateContent`` with ``responseModalities`` holding
``IMAGE`` answers ``inlineData`` PNG parts sized by ``imageConfig.aspectRatio``.

Input images (``inlineData`` parts of the last user turn) are edited: the first one is
repainted and marked with the prompt. ``emulator-refuse`` in the prompt (or a ``refusal``
fault) ends the candidate with ``finishReason: IMAGE_SAFETY`` and no image.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from fastapi.responses import JSONResponse

from emulator import imaging
from emulator.state import Fault

REFUSE_PHRASE = "emulator-refuse"
ASPECT_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}


def wants_image(config: dict[str, Any]) -> bool:
    modalities = config.get("responseModalities") or []
    return any(str(item).upper() == "IMAGE" for item in modalities)


def decode(data: str) -> bytes:
    """Standard or URL-safe base64, padded or not (google-genai sends URL-safe, unpadded)."""
    data = data.replace("-", "+").replace("_", "/")
    return base64.b64decode(data + "=" * (-len(data) % 4))


def _last_user(body: dict[str, Any]) -> dict[str, Any]:
    users = [c for c in body["contents"] if isinstance(c, dict) and c.get("role", "user") == "user"]
    return users[-1] if users else {}


def _prompt_and_images(content: dict[str, Any]) -> tuple[str, list[bytes]]:
    texts: list[str] = []
    images: list[bytes] = []
    for part in content.get("parts") or []:
        if not isinstance(part, dict):
            continue
        if "text" in part:
            texts.append(str(part["text"]))
        inline = part.get("inlineData") or part.get("inline_data")
        if isinstance(inline, dict) and inline.get("data"):
            images.append(decode(str(inline["data"])))
    return " ".join(texts), images


def respond(model: str, body: dict[str, Any], config: dict[str, Any], fault: Fault | None) -> JSONResponse:
    from emulator.google import error

    try:
        prompt, sources = _prompt_and_images(_last_user(body))
    except binascii.Error:
        return error(400, "Invalid value at 'contents[0].parts[0].inline_data.data': base64 expected.")
    aspect = str((config.get("imageConfig") or {}).get("aspectRatio") or "")
    if aspect and aspect not in ASPECT_SIZES:
        return error(400, f"Unsupported aspect ratio: {aspect}")
    usage = {"promptTokenCount": max(1, len(prompt.split())), "candidatesTokenCount": 1290}
    usage["totalTokenCount"] = usage["promptTokenCount"] + usage["candidatesTokenCount"]
    payload: dict[str, Any] = {
        "modelVersion": model,
        "responseId": uuid.uuid4().hex[:20],
        "usageMetadata": usage,
    }
    if (fault is not None and fault.kind == "refusal") or REFUSE_PHRASE in prompt.lower():
        payload["candidates"] = [{"finishReason": "IMAGE_SAFETY", "index": 0}]
        return JSONResponse(payload)
    try:
        if sources:
            size = ASPECT_SIZES[aspect] if aspect else imaging.size_of(sources[0])
            image = imaging.edit(prompt, sources[0], None, size, "png")
        else:
            width, height = ASPECT_SIZES[aspect or "1:1"]
            image = imaging.generate(prompt, width, height, "png")
    except (OSError, binascii.Error):
        return error(400, "Unable to process input image. Please retry or report in AI Studio.")
    parts: list[dict[str, Any]] = []
    if any(str(item).upper() == "TEXT" for item in config.get("responseModalities") or []):
        parts.append({"text": f"Here is your image: {prompt[:80]}"})
    parts.append({"inlineData": {"mimeType": "image/png", "data": base64.b64encode(image).decode()}})
    payload["candidates"] = [
        {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
    ]
    return JSONResponse(payload)
