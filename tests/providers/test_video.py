"""Video adapters through their official SDKs (google-genai, runwayml, replicate) against the
emulator: a render from each provider to a playable MP4, the states a render passes through,
the emulator's faults (429 on create, a FAILED task, a Veo safety filter, a render that never
finishes) and cancel."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from providers.images import ImageClient
from providers.llm import RetryableProviderError
from providers.video import RenderState, VideoClient, VideoRequest
from providers.video.client import VideoAdapter
from tests.conftest import EmulatorControl, make_settings, provider_overrides
from tests.video.helpers import parse_mp4, render_time

REQUESTS = {
    "google": VideoRequest("veo-3.0-fast-generate-001", "جمل في وادي رم", 8, "9:16"),
    "runway": VideoRequest("veo3.1_fast", "جمل في وادي رم", 4, "1280:720"),
    "replicate": VideoRequest("bytedance/seedance-1-lite", "جمل في وادي رم", 5, "16:9"),
}
SIZES = {"google": (144, 256), "runway": (256, 144), "replicate": (256, 144)}
FAULT_PROVIDER = {"google": "veo", "runway": "runway", "replicate": "replicate"}


@pytest_asyncio.fixture
async def video(emulator_url: str) -> AsyncIterator[VideoClient]:
    settings = make_settings(**provider_overrides(emulator_url))
    images = ImageClient(settings)
    client = VideoClient(settings, images)
    yield client
    await client.aclose()
    await images.aclose()


async def until_terminal(adapter: VideoAdapter, job_id: str, timeout: float = 30) -> list[RenderState]:
    seen: list[RenderState] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while not seen or not seen[-1].terminal:
        assert asyncio.get_running_loop().time() < deadline, f"still {seen[-1].status}"
        seen.append(await adapter.get(job_id))
        await asyncio.sleep(0.1)
    return seen


@pytest.mark.parametrize("provider", ["google", "runway", "replicate"])
async def test_a_render_from_each_provider_downloads_as_a_playable_mp4(
    video: VideoClient, emulator: EmulatorControl, provider: str
) -> None:
    await render_time(emulator, 1.0)
    adapter = await video.adapter(provider)  # type: ignore[arg-type]
    request = REQUESTS[provider]
    job_id = await adapter.submit(request)
    states = await until_terminal(adapter, job_id)
    assert states[-1].status == "succeeded" and states[-1].output, states[-1]
    if provider == "runway":  # RUNNING with a progress in between
        assert any(s.status == "running" and s.progress and 0 < s.progress < 1 for s in states), states
    file = io.BytesIO()
    content_type = await adapter.download(states[-1].output or "", file)
    assert content_type.startswith("video/mp4")
    seconds, width, height = parse_mp4(file.getvalue())
    assert abs(seconds - request.duration_s) < 0.2 and (width, height) == SIZES[provider]
    assert (await emulator.calls())[FAULT_PROVIDER[provider]]["requests"] == 1


async def test_a_safety_filtered_veo_result_is_a_refusal(
    video: VideoClient, emulator: EmulatorControl
) -> None:
    await emulator.fault("veo", "video_filtered")
    adapter = await video.adapter("google")
    states = await until_terminal(adapter, await adapter.submit(REQUESTS["google"]))
    assert (states[-1].status, states[-1].error, states[-1].output) == ("failed", "content_refused", None)


@pytest.mark.parametrize("provider", ["google", "runway"])
async def test_a_failed_render_is_a_provider_error(
    video: VideoClient, emulator: EmulatorControl, provider: str
) -> None:
    await emulator.fault(FAULT_PROVIDER[provider], "video_failed")
    adapter = await video.adapter(provider)  # type: ignore[arg-type]
    states = await until_terminal(adapter, await adapter.submit(REQUESTS[provider]))
    assert (states[-1].status, states[-1].error) == ("failed", "provider_error")


@pytest.mark.parametrize("provider", ["google", "runway", "replicate"])
async def test_429_on_create_is_retryable_with_its_retry_after(
    video: VideoClient, emulator: EmulatorControl, provider: str
) -> None:
    await emulator.fault(FAULT_PROVIDER[provider], "http_429", retry_after_s=3)
    adapter = await video.adapter(provider)  # type: ignore[arg-type]
    with pytest.raises(RetryableProviderError) as raised:
        await adapter.submit(REQUESTS[provider])
    assert raised.value.status == 429
    if provider != "replicate":  # the replicate SDK's ReplicateError drops the response headers
        assert raised.value.retry_after == 3
    assert (await emulator.calls())[FAULT_PROVIDER[provider]]["requests"] == 1


async def test_a_render_that_never_finishes_stays_running_and_runway_cancels_it(
    video: VideoClient, emulator: EmulatorControl
) -> None:
    await emulator.fault("runway", "never_finish")
    await emulator.fault("veo", "never_finish")
    runway, veo = await video.adapter("runway"), await video.adapter("google")
    task = await runway.submit(REQUESTS["runway"])
    operation = await veo.submit(REQUESTS["google"])
    await asyncio.sleep(1.5)  # longer than a normal render here (0 s)
    assert (await runway.get(task)).status == "running"
    assert not (await veo.get(operation)).terminal
    assert await runway.cancel(task) is True
    assert (await runway.get(task)).status == "canceled"
    assert await veo.cancel(operation) is False  # the Gemini API has no cancel: abandoned
    assert (await emulator.calls())["runway"]["cancels"] == 1


async def test_replicate_cancels_a_running_prediction(video: VideoClient, emulator: EmulatorControl) -> None:
    await emulator.fault("replicate", "slow", delay_s=30)
    adapter = await video.adapter("replicate")
    prediction = await adapter.submit(REQUESTS["replicate"])
    assert not (await adapter.get(prediction)).terminal
    assert await adapter.cancel(prediction) is True
    assert (await adapter.get(prediction)).status == "canceled"


async def test_a_slow_create_answers_after_create_ms_with_the_render_started(
    video: VideoClient, emulator: EmulatorControl
) -> None:
    """The emulator's ``create_ms``: what the cancel-during-submit tests stand on."""
    response = await emulator.http.post(f"{emulator.url}/_emulator/latency", json={"create_ms": 800})
    assert response.json()["create_ms"] == 800
    adapter = await video.adapter("runway")
    started = asyncio.get_running_loop().time()
    submitting = asyncio.ensure_future(adapter.submit(REQUESTS["runway"]))
    await asyncio.sleep(0.3)
    assert (await emulator.calls())["runway"]["requests"] == 1 and not submitting.done()
    renders = await emulator.http.get(f"{emulator.url}/_emulator/video/renders")
    assert renders.json() == {}, "the render starts when the create is answered"
    task = await submitting
    assert asyncio.get_running_loop().time() - started >= 0.8
    assert task in (await emulator.http.get(f"{emulator.url}/_emulator/video/renders")).json()
    await emulator.reset()
    latency = (await emulator.http.post(f"{emulator.url}/_emulator/latency", json={})).json()
    assert latency["create_ms"] == 0
