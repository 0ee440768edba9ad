"""A media worker killed with SIGKILL while the render runs: a new worker resumes awaiting the
same provider job (the emulator saw one submission) and the video is billed once."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.db import Database
from core.settings import Settings
from tests.conftest import EmulatorControl, serve_app
from tests.processes import kill_hard, pulse_process, settings_env
from tests.video.helpers import finished, render_time, set_videos, start, videos_left

pytestmark = [pytest.mark.slow, pytest.mark.chaos]


async def test_media_worker_killed_while_waiting_one_render_billed_once(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"vidchaos{uuid.uuid4().hex[:6]}-"})
    me = await sign_in()
    await set_videos(db, me.user_id, 2)
    await render_time(emulator, 4)
    async with serve_app(own, run_worker=False) as url:
        client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=30)
        with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "w1.log") as first:
            job_id = await start(client, model="runway/veo3.1_fast", duration=4)
            deadline = asyncio.get_running_loop().time() + 120  # a cold worker on a busy machine
            while (await emulator.calls()).get("runway", {}).get("polls", 0) < 1:
                assert asyncio.get_running_loop().time() < deadline, "the render was never polled"
                await asyncio.sleep(0.05)
            kill_hard(first)
        assert (await client.get(f"/v1/videos/{job_id}")).json()["status"] == "running"
        with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "w2.log"):
            video = await finished(client, job_id, timeout=120)
        await client.aclose()
    assert video["status"] == "succeeded", video
    assert (await emulator.calls())["runway"]["requests"] == 1, "one render, never a second"
    assert await videos_left(db, me.user_id) == 1
