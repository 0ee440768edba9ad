"""Image wires: the official SDKs against the emulator's OpenAI, Gemini and Replicate routes."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator

import httpx
import openai
import pytest
import pytest_asyncio
import replicate
import uvicorn
from google import genai
from google.genai import types
from PIL import Image
from replicate.client import Client as ReplicateClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import EmulatorControl, free_port


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def png(width: int, height: int, alpha: int = 255) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (10, 20, 30, alpha)).save(out, format="PNG")
    return out.getvalue()


async def test_openai_generate_respects_size_and_n(
    oai: openai.AsyncOpenAI, emulator: EmulatorControl
) -> None:
    result = await oai.images.generate(model="gpt-image-1", prompt="a red fox", size="1536x1024", n=2)
    assert result.data is not None and len(result.data) == 2
    images = [base64.b64decode(item.b64_json or "") for item in result.data]
    assert [size_of(image) for image in images] == [(1536, 1024)] * 2 and images[0] != images[1]
    assert result.usage is not None and result.usage.output_tokens > 0
    assert (await emulator.calls())["openai"]["requests"] == 1


async def test_openai_edit_multipart_with_mask(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    source, mask = png(512, 512), png(512, 512, alpha=0)
    result = await oai.images.edit(
        model="gpt-image-1",
        image=("in.png", source, "image/png"),
        mask=("mask.png", mask, "image/png"),
        prompt="add a hat",
    )
    assert result.data is not None
    edited = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json or ""))).convert("RGB")
    assert edited.size == (512, 512) and edited.getpixel((256, 400)) != (10, 20, 30)
    with pytest.raises(openai.BadRequestError):  # a mask of another size is refused
        await oai.images.edit(
            model="gpt-image-1", image=("in.png", source), mask=("m.png", png(64, 64)), prompt="x"
        )


async def test_openai_refusal_and_rate_limit(oai: openai.AsyncOpenAI, emulator: EmulatorControl) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await oai.images.generate(model="gpt-image-1", prompt="emulator-refuse this")
    assert refused.value.code == "moderation_blocked"
    await emulator.fault("openai", "http_429", model="gpt-image-1", retry_after_s=1)
    with pytest.raises(openai.RateLimitError) as limited:
        await oai.images.generate(model="gpt-image-1", prompt="fine")
    assert limited.value.response.headers["retry-after"] == "1"


async def test_gemini_image_parts_on_default_v1(emulator_url: str, emulator: EmulatorControl) -> None:
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=emulator_url))  # v1
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9")
    )
    response = await client.aio.models.generate_content(
        model="gemini-2.5-flash-image", contents="a lighthouse", config=config
    )
    parts = (
        response.candidates[0].content.parts if response.candidates and response.candidates[0].content else []
    )
    assert parts and parts[0].inline_data is not None and parts[0].inline_data.data
    assert size_of(parts[0].inline_data.data) == (1344, 768)
    edit = await client.aio.models.generate_content(
        model="gemini-2.5-flash-image",
        contents=types.Content(
            role="user",
            parts=[types.Part.from_bytes(data=png(300, 200), mime_type="image/png"), types.Part(text="blue")],
        ),
        config=types.GenerateContentConfig(response_modalities=["IMAGE"]),
    )
    edited = (
        edit.candidates[0].content.parts if edit.candidates and edit.candidates[0].content else None
    ) or []
    assert edited[0].inline_data is not None and size_of(edited[0].inline_data.data or b"") == (300, 200)
    refused = await client.aio.models.generate_content(
        model="gemini-2.5-flash-image", contents="emulator-refuse", config=config
    )
    assert refused.candidates and refused.candidates[0].finish_reason == types.FinishReason.IMAGE_SAFETY


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A webhook endpoint that records every delivery."""
    seen: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        seen.append((dict(request.headers), await request.body()))
        return Response(status_code=204)

    port = free_port()
    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}/hook", seen
    server.should_exit = True
    await task


async def wait_for(seen: list[tuple[dict[str, str], bytes]], count: int) -> None:
    for _ in range(200):
        if len(seen) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(seen)} webhooks, expected {count}")


async def test_replicate_prediction_webhook_signed_and_duplicated(
    emulator_url: str, emulator: EmulatorControl, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, seen = receiver
    client = ReplicateClient(api_token="k", base_url=emulator_url)
    secret = await client.webhooks.default.async_secret()
    await emulator.fault("replicate", "webhook_duplicate", copies=3, delay_s=0)
    prediction = await client.predictions.async_create(
        model="black-forest-labs/flux-schnell",
        input={"prompt": "a cat", "aspect_ratio": "16:9", "num_outputs": 2},
        webhook=url,
        webhook_events_filter=["completed"],
    )
    assert prediction.status == "starting"
    await wait_for(seen, 3)
    assert len({headers["webhook-id"] for headers, _ in seen}) == 1
    for headers, body in seen:
        assert (
            replicate.webhooks.validate(headers=headers, body=body.decode(), secret=secret, tolerance=300)
            is None
        )
    final = json.loads(seen[0][1])
    assert final["status"] == "succeeded" and len(final["output"]) == 2
    async with httpx.AsyncClient() as http:
        image = (await http.get(final["output"][0])).content
    assert size_of(image) == (1344, 768) and image[8:12] == b"WEBP"
    calls = (await emulator.calls())["replicate"]
    assert calls["requests"] == 1 and calls["webhooks"] == 3


async def test_replicate_failures_lost_webhook_and_cancel(
    emulator_url: str, emulator: EmulatorControl, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, seen = receiver
    client = ReplicateClient(api_token="k", base_url=emulator_url)
    await emulator.fault("replicate", "webhook_lost", delay_s=0)
    lost = await client.predictions.async_create(
        model="black-forest-labs/flux-schnell", input={"prompt": "p"}, webhook=url
    )
    refused = await client.predictions.async_create(
        model="black-forest-labs/flux-schnell", input={"prompt": "emulator-refuse"}
    )
    await emulator.fault("replicate", "slow", delay_s=30)
    slow = await client.predictions.async_create(
        model="black-forest-labs/flux-schnell", input={"prompt": "p"}, webhook=url
    )
    canceled = await client.predictions.async_cancel(slow.id)
    assert canceled.status == "canceled"
    await wait_for(seen, 1)  # the cancel's webhook; the lost one never comes
    await asyncio.sleep(0.1)
    assert [json.loads(body)["id"] for _, body in seen] == [slow.id]
    lost = await client.predictions.async_get(lost.id)
    refused = await client.predictions.async_get(refused.id)
    assert lost.status == "succeeded" and refused.status == "failed" and "NSFW" in (refused.error or "")
    await emulator.fault("replicate", "http_429", retry_after_s=2)
    with pytest.raises(replicate.exceptions.ReplicateError) as limited:
        await client.predictions.async_create(model="black-forest-labs/flux-schnell", input={"prompt": "p"})
    assert limited.value.status == 429
