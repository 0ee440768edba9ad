"""The Temporal server stopped and started again while a render is awaited at the provider.

The test runs its own Temporal dev server on a SQLite file (``TemporalServer`` from
tests/chaos/stack.py: the server's state survives a restart, as a cluster's persistence does),
the API in-process and a `pulse worker -q media` process, both connected to that server. The
render outlives the outage: after the restart the workflow goes on awaiting the same provider
job, the video is stored and playable, the emulator saw one submission, and the hold was
settled exactly once."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from core.db import Database
from core.settings import Settings
from tests.chaos.stack import TemporalServer
from tests.conftest import EmulatorControl, serve_app
from tests.processes import pulse_process, settings_env
from tests.video.helpers import finished, ledger_kinds, parse_mp4, render_time, set_videos, start, videos_left

pytestmark = [pytest.mark.slow, pytest.mark.chaos]
OUTAGE_S = 5.0  # longer than several polls (0.2-0.5 s apart in tests)


async def polls(emulator: EmulatorControl) -> int:
    return int((await emulator.calls()).get("runway", {}).get("polls", 0))


async def test_temporal_restarted_while_the_render_is_awaited_completes_once(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, tmp_path: Path
) -> None:
    temporal = TemporalServer(tmp_path)
    await temporal.start()
    own = settings.model_copy(
        update={
            "temporal_address": temporal.address,
            "temporal_task_queue_prefix": f"vidrestart{uuid.uuid4().hex[:6]}-",
            "ledger_sweeper_schedule": False,
            "auth_purge_schedule": False,
        }
    )
    me = await sign_in()
    await set_videos(db, me.user_id, 2)
    await render_time(emulator, OUTAGE_S + 6)  # still rendering when Temporal is back
    try:
        async with serve_app(own, run_worker=False) as url:
            headers = {"Authorization": f"Bearer {me.token}"}
            client = httpx.AsyncClient(base_url=url, headers=headers, timeout=30)
            with pulse_process(["worker", "-q", "media"], settings_env(own), tmp_path / "worker.log"):
                job_id = await start(client, model="runway/veo3.1_fast", duration=4)
                deadline = asyncio.get_running_loop().time() + 120  # a cold worker on a busy machine
                while await polls(emulator) < 1:  # submitted, and the workflow waits on the provider
                    assert asyncio.get_running_loop().time() < deadline, "the render was never polled"
                    await asyncio.sleep(0.05)
                temporal.stop()
                assert not temporal.process.running
                down_at = await polls(emulator)
                await asyncio.sleep(OUTAGE_S)
                assert await polls(emulator) <= down_at + 1, "polled while Temporal was down"  # one in flight
                assert (await client.get(f"/v1/videos/{job_id}")).json()["status"] == "running"
                await temporal.start()
                video = await finished(client, job_id, timeout=180)
            assert video["status"] == "succeeded", video
            async with httpx.AsyncClient(timeout=30) as anonymous:
                data = (await anonymous.get(video["url"])).content
            await client.aclose()
        seconds, _, _ = parse_mp4(data)
        assert abs(seconds - 4) < 0.2 and len(data) == video["size"]
        calls = (await emulator.calls())["runway"]
        assert calls["requests"] == 1, "one render, never a second"
        assert calls["downloads"] == 1, calls
        assert await videos_left(db, me.user_id) == 1
        assert await ledger_kinds(db, job_id) == {"reserve": 1, "settle": 1}
        if os.environ.get("PULSE_RECORD_HISTORIES") == "1":  # for tests/video/test_replay.py
            recorder = await Client.connect(temporal.address, namespace=own.temporal_namespace)
            history = await recorder.get_workflow_handle(f"video-{job_id}").fetch_history()
            (Path(__file__).parent / "histories" / "temporal_restarted.json").write_text(history.to_json())
    finally:
        temporal.stop()
