"""A media worker killed with SIGKILL after the Replicate prediction was created: a new worker
resumes awaiting the same prediction (never a second one) and the job is billed once."""

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
from tests.images.helpers import images_left, job_images, outcome, set_images, start
from tests.processes import kill_hard, pulse_process, settings_env

pytestmark = [pytest.mark.slow, pytest.mark.chaos]


async def test_media_worker_killed_after_submit_one_prediction_billed_once(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"imgchaos{uuid.uuid4().hex[:6]}-"})
    me = await sign_in()
    await set_images(db, me.user_id, 5)
    await emulator.fault("replicate", "slow", delay_s=3)  # the prediction runs 3 s
    async with serve_app(own, run_worker=False) as url:
        client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=30)
        with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "w1.log") as first:
            job_id = await start(client, model="black-forest-labs/flux-schnell", n=2)
            deadline = asyncio.get_running_loop().time() + 120  # a cold worker on a busy machine
            while (await emulator.calls()).get("replicate", {}).get("requests") != 1:
                assert asyncio.get_running_loop().time() < deadline, "the prediction was never created"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # the submit activity's result reaches the workflow
            kill_hard(first)
        assert (await client.get(f"/v1/jobs/{job_id}")).json()["status"] == "running"
        with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "w2.log"):
            done = await outcome(client, job_id, timeout=120)
        assert done["status"] == "succeeded", done
        assert len(await job_images(client, job_id)) == 2
        await client.aclose()
    assert (await emulator.calls())["replicate"]["requests"] == 1, "one prediction, never a second"
    assert await images_left(db, me.user_id) == 3
