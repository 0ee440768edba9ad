"""A video cancelled while the provider's create is in flight: once the create returns, the
render is cancelled at the provider and the hold released (see tests.workflows.submit_cancel.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from core import videos
from core.db import Database
from tests.conftest import EmulatorControl
from tests.video.helpers import finished, render_time, set_videos, start, videos_left
from tests.workflows.submit_cancel import (
    cancel_came_during_submit,
    create_in_flight,
    prediction_status,
    slow_creates,
)

HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize(
    ("model", "provider", "duration"),
    [("runway/veo3.1_fast", "runway", 4), ("bytedance/seedance-1-lite", "replicate", 5)],
)
async def test_cancel_while_the_create_is_in_flight_cancels_the_render_it_started(
    sign_in: Any,
    db: Database,
    emulator: EmulatorControl,
    client: Client,
    model: str,
    provider: str,
    duration: int,
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await render_time(emulator, 60)
    await emulator.fault(provider, "slow", delay_s=60)
    await slow_creates(emulator)
    job_id = await start(me.client, model=model, duration=duration)
    await create_in_flight(emulator, provider)
    assert (await me.client.post(f"/v1/jobs/{job_id}/cancel")).status_code in (200, 202, 204)
    video = await finished(me.client, job_id, timeout=60)
    assert (video["status"], video["error"]["code"]) == ("cancelled", "cancelled")
    calls = (await emulator.calls())[provider]
    assert (calls["requests"], calls["cancels"]) == (1, 1), calls
    async with db.session() as session:
        render_id = await videos.provider_job_for(session, job_id)
    assert render_id is not None, "the render the create started is known"
    if provider == "runway":
        renders = (await emulator.http.get(f"{emulator.url}/_emulator/video/renders")).json()
        assert renders[render_id]["cancelled"] is True
    else:
        assert await prediction_status(emulator, render_id) == "canceled"
    assert await videos_left(db, me.user_id) == 1
    await cancel_came_during_submit(client, f"video-{job_id}", "video.submit", HISTORIES)


async def test_cancel_while_a_refused_create_waits_to_be_retried_starts_no_render(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    """The create was answered 429 (retry in 5 s) and the person cancels meanwhile: no second
    create is sent, nothing runs at the provider, the hold is released."""
    me = await sign_in()
    await set_videos(db, me.user_id, 1)
    await emulator.fault("runway", "http_429", retry_after_s=5)
    job_id = await start(me.client, model="runway/veo3.1_fast", duration=4)
    await create_in_flight(emulator, "runway")
    assert (await me.client.post(f"/v1/jobs/{job_id}/cancel")).status_code in (200, 202, 204)
    video = await finished(me.client, job_id, timeout=60)
    assert (video["status"], video["error"]["code"]) == ("cancelled", "cancelled")
    await asyncio.sleep(6)  # past the retry the 429 asked for
    calls = (await emulator.calls())["runway"]
    assert (calls["requests"], calls["cancels"]) == (1, 0), calls
    assert await videos_left(db, me.user_id) == 1
