"""VideoJobWorkflow replays the histories committed under ``histories/`` (Veo polled, Replicate
ended by its webhook, a safety-filtered Veo result, a Runway ceiling, a cancel), recorded by an
earlier version: a change that would break running workflows fails here.
``PULSE_RECORD_HISTORIES=1`` runs those jobs again and rewrites the files."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from core.db import Database
from core.settings import Settings
from tests.conftest import EmulatorControl, serve_app
from tests.video.helpers import finished, render_time, set_videos, start, wait_for
from workflows.video import VideoJobWorkflow, video_workflow_id

HISTORIES = Path(__file__).parent / "histories"


def replayer() -> Replayer:
    return Replayer(workflows=[VideoJobWorkflow])


@pytest.mark.skipif(os.environ.get("PULSE_RECORD_HISTORIES") != "1", reason="records histories on demand")
async def test_record_histories(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, client: Client
) -> None:
    me = await sign_in()
    await set_videos(db, me.user_id, 20)
    cases: dict[str, str] = {}
    await render_time(emulator, 0.5)
    cases["veo_polled"] = await start(me.client, model="veo-3.0-fast-generate-001")
    cases["replicate_webhook"] = await start(me.client, model="bytedance/seedance-1-lite", duration=5)
    await emulator.fault("veo", "video_filtered")
    cases["veo_filtered"] = await start(me.client, model="veo-3.0-generate-001")
    for case in cases.values():
        await finished(me.client, case)
    await emulator.fault("runway", "never_finish")
    async with serve_app(settings.model_copy(update={"video_ceiling_seconds": 1.0}), run_worker=False) as url:
        own = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=30)
        cases["runway_ceiling"] = await start(own, model="runway/veo3.1_fast", duration=4)
        await finished(own, cases["runway_ceiling"])
        await own.aclose()
    await emulator.fault("runway", "slow", delay_s=30)
    cases["cancelled"] = await start(me.client, model="runway/veo3.1_fast", duration=4)

    async def running() -> bool:
        return (await me.client.get(f"/v1/jobs/{cases['cancelled']}")).json()["status"] == "running"

    await wait_for(running)
    await asyncio.sleep(0.5)
    await me.client.post(f"/v1/jobs/{cases['cancelled']}/cancel")
    assert (await finished(me.client, cases["cancelled"]))["status"] == "cancelled"
    for name, job_id in cases.items():
        history = await client.get_workflow_handle(video_workflow_id(job_id)).fetch_history()
        result = await replayer().replay_workflow(history)
        assert result.replay_failure is None, name
        await asyncio.to_thread((HISTORIES / f"{name}.json").write_text, history.to_json())


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_committed_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(f"video-{path.stem}", await asyncio.to_thread(path.read_text))
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None
