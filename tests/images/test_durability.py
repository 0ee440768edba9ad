"""A media worker killed with SIGKILL after the Replicate predictions were created: a new worker
resumes awaiting the same predictions (never a second one each) and each job is billed once —
one job started by the studio's route, one asked through the OpenAI-compatible API (whose call
waits for its job across the crash and still answers both images)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import openai
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
    await emulator.fault("replicate", "slow", count=2, delay_s=3)  # each prediction runs 3 s
    async with serve_app(own, run_worker=False) as url:
        client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=30)
        with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "w1.log") as first:
            job_id = await start(client, model="black-forest-labs/flux-schnell", n=2)
            asked = asyncio.create_task(openai_call(client, url))
            deadline = asyncio.get_running_loop().time() + 120  # a cold worker on a busy machine
            while (await emulator.calls()).get("replicate", {}).get("requests") != 2:
                assert asyncio.get_running_loop().time() < deadline, "the prediction was never created"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # the submit activity's result reaches the workflow
            kill_hard(first)
        jobs = {job["id"] for job in (await client.get("/v1/jobs", params={"kind": "image"})).json()}
        assert len(jobs) == 2 and job_id in jobs
        for each in jobs:
            assert (await client.get(f"/v1/jobs/{each}")).json()["status"] == "running"
        with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "w2.log"):
            answer = await asyncio.wait_for(asked, timeout=120)
            done = [await outcome(client, each, timeout=120) for each in jobs]
        assert [d["status"] for d in done] == ["succeeded", "succeeded"], done
        assert len(answer.data) == 2 and all(item.b64_json for item in answer.data)
        for each in jobs:
            assert len(await job_images(client, each)) == 2
        await client.aclose()
    assert (await emulator.calls())["replicate"]["requests"] == 2, "one prediction per job, never a second"
    assert await images_left(db, me.user_id) == 1


async def openai_call(client: httpx.AsyncClient, url: str) -> Any:
    """The same render through ``/openai/v1/images/generations`` with a fresh personal key."""
    key = (await client.post("/v1/auth/api-keys", json={"name": "durable"})).json()["key"]
    async with openai.AsyncOpenAI(api_key=key, base_url=f"{url}/openai/v1", max_retries=0, timeout=180) as s:
        return await s.images.generate(model="black-forest-labs/flux-schnell", prompt="قطة في البتراء", n=2)
