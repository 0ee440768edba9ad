"""The video studio through its HTTP API, on the real worker stack and the emulator (Veo via
google-genai, Runway via runwayml, Replicate via its SDK)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from core.db import Database
from core.settings import Settings
from providers.email.outbox import read_outbox
from tests.chat.helpers import read_events
from tests.conftest import EmulatorControl, serve_app
from tests.images.helpers import job_images, outcome, set_images
from tests.images.helpers import start as start_image
from tests.storage.helpers import png_bytes, upload
from tests.video.helpers import (
    finished,
    parse_mp4,
    render_time,
    set_videos,
    start,
    videos_left,
    wait_for,
)

CASES = [
    ("veo-3.0-fast-generate-001", 8, "9:16", (144, 256), "veo"),
    ("runway/veo3.1_fast", 4, "16:9", (256, 144), "runway"),
    ("bytedance/seedance-1-lite", 5, "16:9", (256, 144), "replicate"),
]


@pytest.mark.parametrize(("model", "duration", "ratio", "size", "provider"), CASES)
async def test_a_video_from_each_provider_is_stored_playable_and_billed_once(
    sign_in: Any,
    db: Database,
    emulator: EmulatorControl,
    model: str,
    duration: int,
    ratio: str,
    size: tuple[int, int],
    provider: str,
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 2)
    await render_time(emulator, 0.6)
    job_id = await start(me.client, model=model, duration=duration, aspect_ratio=ratio)
    stream = await read_events(me.client, f"/v1/jobs/{job_id}/events")
    steps = [e.data.get("step") for e in stream.events if e.type == "step"]
    assert steps[:1] == ["started"] and {"queued", "running", "storing"} <= set(steps), steps
    video = await finished(me.client, job_id)
    assert video["status"] == "succeeded", video
    assert (video["width"], video["height"]) == size
    assert abs(video["duration_ms"] - duration * 1000) < 200
    async with httpx.AsyncClient() as anonymous:  # signed links need no session
        data = (await anonymous.get(video["url"])).content
        ranged = await anonymous.get(video["url"], headers={"Range": "bytes=0-99"})
        download = await anonymous.get(video["download_url"])
        poster = await anonymous.get(video["poster_url"])
    assert len(data) == video["size"]
    seconds, width, height = parse_mp4(data)
    assert abs(seconds - duration) < 0.2 and (width, height) == size
    assert ranged.status_code == 206 and len(ranged.content) == 100 and data[4:8] == b"ftyp"
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"
    assert download.content == data and "attachment" in download.headers["content-disposition"]
    assert await videos_left(db, me.user_id) == 1
    job = (await me.client.get(f"/v1/jobs/{job_id}")).json()
    assert job["usage"]["videos"] == 1
    assert (await emulator.calls())[provider]["requests"] == 1
    listed = (await me.client.get("/v1/videos")).json()["videos"]
    assert [v["id"] for v in listed] == [job_id]


async def test_runway_reports_its_progress(sign_in: Any, db: Database, emulator: EmulatorControl) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await render_time(emulator, 2.0)
    job_id = await start(me.client, model="runway/veo3.1_fast", duration=4)
    stream = await read_events(me.client, f"/v1/jobs/{job_id}/events")
    running = [e.data for e in stream.events if e.type == "progress" and e.data.get("step") == "running"]
    assert running and all(0 < p["done"] < p["total"] for p in running), running
    assert stream.events[-1].type == "done"


async def test_a_safety_filtered_veo_result_is_refused_and_bills_nothing(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="ar")
    await set_videos(db, me.user_id, 1)
    await emulator.fault("veo", "video_filtered")
    job_id = await start(me.client, model="veo-3.0-generate-001")
    video = await finished(me.client, job_id)
    assert (video["status"], video["error"]["code"]) == ("failed", "content_refused")
    assert video["url"] is None and await videos_left(db, me.user_id) == 1
    assert (await me.client.get(f"/v1/jobs/{job_id}")).json()["usage"]["videos"] == 0


async def test_runway_failure_and_429_on_create(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await emulator.fault("runway", "http_429", retry_after_s=0.2)  # retried by Temporal
    await emulator.fault("runway", "video_failed")
    job_id = await start(me.client, model="runway/veo3.1_fast", duration=4)
    video = await finished(me.client, job_id)
    assert (video["status"], video["error"]["code"]) == ("failed", "provider_error")
    assert (await emulator.calls())["runway"]["requests"] == 2  # the 429, then one render
    assert await videos_left(db, me.user_id) == 1


async def test_past_the_ceiling_the_render_is_cancelled_at_the_provider_and_released(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await emulator.fault("runway", "never_finish")
    async with serve_app(settings.model_copy(update={"video_ceiling_seconds": 1.5}), run_worker=False) as url:
        client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=30)
        job_id = await start(client, model="runway/veo3.1_fast", duration=4)
        video = await finished(client, job_id)
        await client.aclose()
    assert (video["status"], video["error"]["code"]) == ("failed", "provider_timeout")
    assert (await emulator.calls())["runway"]["cancels"] == 1
    assert await videos_left(db, me.user_id) == 1


@pytest.mark.parametrize(
    ("model", "provider"), [("runway/veo3.1_fast", "runway"), ("bytedance/seedance-1-lite", "replicate")]
)
async def test_cancel_cancels_at_the_provider_and_releases(
    sign_in: Any, db: Database, emulator: EmulatorControl, model: str, provider: str
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await render_time(emulator, 30)
    await emulator.fault(provider, "slow", delay_s=30)
    job_id = await start(me.client, model=model, duration=4 if provider == "runway" else 5)

    async def running() -> bool:
        # submitted and being awaited: the provider answered the create (Replicate's first poll
        # comes after it), so the workflow holds the provider's job id to cancel
        calls = (await emulator.calls()).get(provider, {})
        submitted = calls.get("requests") == 1 and (provider != "replicate" or calls.get("polls", 0) >= 1)
        return (await me.client.get(f"/v1/jobs/{job_id}")).json()["status"] == "running" and submitted

    await wait_for(running)
    assert (await me.client.post(f"/v1/jobs/{job_id}/cancel")).status_code in (200, 202, 204)
    video = await finished(me.client, job_id)
    assert video["status"] == "cancelled"
    assert (await emulator.calls())[provider]["cancels"] == 1
    assert await videos_left(db, me.user_id) == 1


async def test_bad_input_and_another_users_video(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me, other = await sign_in(locale="en"), await sign_in(locale="ar")
    await set_videos(db, me.user_id, 1)
    bad = await me.client.post(
        "/v1/videos", json={"prompt": "x", "model": "veo-3.0-generate-001", "duration": 5}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_video_request"
    refused = await other.client.post("/v1/videos", json={"prompt": "x", "model": "runway/gen4_turbo"})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_video_request"
    assert "صورة" in refused.json()["message"]
    unknown = await me.client.post("/v1/videos", json={"prompt": "x", "model": "sora-9"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "model_unavailable"
    job_id = await start(me.client, model="veo-3.0-fast-generate-001")
    assert (await finished(me.client, job_id))["status"] == "succeeded"
    assert (await other.client.get(f"/v1/videos/{job_id}")).status_code == 404
    assert (await other.client.delete(f"/v1/videos/{job_id}")).status_code == 404
    assert (await other.client.get("/v1/videos")).json()["videos"] == []
    assert (await me.client.delete(f"/v1/videos/{job_id}")).status_code == 204
    assert (await me.client.get(f"/v1/videos/{job_id}")).status_code == 404
    models = (await me.client.get("/v1/videos/models")).json()["models"]
    assert {m["provider"] for m in models} == {"google", "runway", "replicate"}
    by_id = {m["id"]: m for m in models}
    assert {"veo-3.0-generate-001", "veo-3.0-fast-generate-001", "veo-3.1-generate-preview"} <= set(by_id)
    for model in models:  # what the page offers per model, and what one video costs
        assert model["default_duration"] in model["durations"], model
        assert model["default_aspect_ratio"] in model["aspect_ratios"], model
        assert model["resolution"].endswith("p") and model["cost"] >= 1, model
    assert by_id["veo-3.0-generate-001"]["durations"] == [8]
    assert by_id["runway/gen4_turbo"]["text_to_video"] is False


async def test_a_person_who_left_gets_an_email_when_the_video_is_ready(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="ar")
    await set_videos(db, me.user_id, 1)
    async with serve_app(
        settings.model_copy(update={"video_ready_email_after_seconds": 0}), run_worker=False
    ) as url:
        client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=30)
        job_id = await start(client, model="veo-3.0-fast-generate-001")
        assert (await finished(client, job_id))["status"] == "succeeded"
        await client.aclose()

    async def emailed() -> bool:
        return any(
            e.to == me.email and "جاهز" in e.subject for e in read_outbox(settings.outbox_dir, limit=1000)
        )

    await wait_for(emailed)


async def test_image_to_video_starts_from_a_gallery_image(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await set_images(db, me.user_id, 1)
    image_job = await start_image(me.client, size="1536x1024")
    assert (await outcome(me.client, image_job))["status"] == "succeeded"
    [image] = await job_images(me.client, image_job)
    job_id = await start(me.client, model="runway/gen4_turbo", duration=5, first_frame_image_id=image["id"])
    video = await finished(me.client, job_id)
    assert video["status"] == "succeeded" and abs(video["duration_ms"] - 5000) < 200
    other = await sign_in()
    stolen = await other.client.post(
        "/v1/videos", json={"prompt": "x", "model": "runway/gen4_turbo", "first_frame_image_id": image["id"]}
    )
    assert stolen.status_code == 404


@pytest.mark.usefixtures("clamd")
async def test_image_to_video_starts_from_an_uploaded_image(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    """``first_frame_file_id``: a ready upload (presigned POST, scanned) is the first frame; a
    file that is not an image is refused, another person's upload is not found."""
    me, other = await sign_in(locale="en"), await sign_in()
    await set_videos(db, me.user_id, 1)
    frame = await upload(me.client, "frame.png", png_bytes(320, 180), "image/png", purpose="image_input")
    assert frame.file["status"] == "ready", frame.file
    text = await upload(me.client, "notes.txt", "ملاحظات".encode() * 20, "text/plain")
    assert text.file["status"] == "ready", text.file
    body = {"prompt": "x", "model": "runway/gen4_turbo", "duration": 5}
    not_image = await me.client.post("/v1/videos", json={**body, "first_frame_file_id": text.file_id})
    assert not_image.status_code == 422 and not_image.json()["code"] == "invalid_first_frame"
    stolen = await other.client.post("/v1/videos", json={**body, "first_frame_file_id": frame.file_id})
    assert stolen.status_code == 404
    job_id = await start(me.client, model="runway/gen4_turbo", duration=5, first_frame_file_id=frame.file_id)
    video = await finished(me.client, job_id)
    assert video["status"] == "succeeded" and abs(video["duration_ms"] - 5000) < 200
    assert (await emulator.calls())["runway"]["requests"] == 1
    assert await videos_left(db, me.user_id) == 0


async def test_an_operator_finds_a_running_render_by_provider_model_and_status(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Client
) -> None:
    """The Temporal UI's list query over the search attributes, and the workflow's summary and
    current details (what the UI shows for one render)."""
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await render_time(emulator, 60)
    job_id = await start(me.client, model="runway/veo3.1_fast", duration=4)
    query = (
        f"PulseJobKind = 'video' AND PulseProvider = 'runway' AND PulseModel = 'runway/veo3.1_fast'"
        f" AND PulseJobStatus = 'running' AND PulseUserId = '{me.user_id}'"
    )

    async def listed() -> bool:
        return [w.id async for w in client.list_workflows(query)] == [f"video-{job_id}"]

    await wait_for(listed, timeout=60)
    handle = client.get_workflow_handle(f"video-{job_id}")

    described = await handle.describe()
    assert await described.static_summary() == "video · runway · runway/veo3.1_fast · 4s 16:9"

    async def phase_running() -> bool:
        return bool(await handle.query("phase") == "running")

    await wait_for(phase_running, timeout=60)
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert metadata.current_details.startswith("runway · runway/veo3.1_fast · running · provider job ")
    await me.client.post(f"/v1/jobs/{job_id}/cancel")
    assert (await finished(me.client, job_id))["status"] == "cancelled"
    ended = query.replace("'running'", "'cancelled'")

    async def listed_cancelled() -> bool:
        return [w.id async for w in client.list_workflows(ended)] == [f"video-{job_id}"]

    await wait_for(listed_cancelled, timeout=60)


@pytest.mark.parametrize("webhook", ["delivered", "lost"])
async def test_a_replicate_video_ends_by_its_signed_webhook_or_else_by_polling(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, webhook: str
) -> None:
    """Delivered: polling is slowed to once a minute, so only the signed webhook can end the
    render in time (no poll is made). Lost: the usual polling finds the result."""
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await render_time(emulator, 0.5)
    if webhook == "lost":
        await emulator.fault("replicate", "webhook_lost", delay_s=0)
        job_id = await start(me.client, model="bytedance/seedance-1-lite", duration=5)
        video = await finished(me.client, job_id)
    else:
        pace = {"video_poll_initial_seconds": 60.0, "video_poll_max_seconds": 60.0}
        async with serve_app(settings.model_copy(update=pace), run_worker=False) as url:
            headers = {"Authorization": f"Bearer {me.token}"}
            client = httpx.AsyncClient(base_url=url, headers=headers, timeout=30)
            job_id = await start(client, model="bytedance/seedance-1-lite", duration=5)
            video = await finished(client, job_id, timeout=40)
            await client.aclose()
    assert video["status"] == "succeeded", video
    calls = (await emulator.calls())["replicate"]
    if webhook == "delivered":
        assert calls["webhooks"] >= 1 and calls["polls"] == 0, calls
    else:
        assert calls["webhooks"] == 0 and calls["polls"] >= 1, calls
    assert calls["requests"] == 1 and await videos_left(db, me.user_id) == 0
