"""ImageJobWorkflow replays the histories committed under ``histories/`` (a direct render, a
Replicate job ended by its webhook, one ended by polling, a refusal, a cancel), recorded by an
earlier version: a change that would break running workflows fails here.
``PULSE_RECORD_HISTORIES=1`` runs those five jobs again and rewrites the files (do it when a
change is meant to be incompatible, together with a workflow versioning patch)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from core.db import Database
from tests.conftest import EmulatorControl
from tests.images.helpers import outcome, set_images, start
from workflows.images import ImageJobWorkflow, image_workflow_id

HISTORIES = Path(__file__).parent / "histories"


def replayer() -> Replayer:
    return Replayer(workflows=[ImageJobWorkflow])


@pytest.mark.skipif(os.environ.get("PULSE_RECORD_HISTORIES") != "1", reason="records histories on demand")
async def test_record_histories(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Client
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 20)
    cases: dict[str, str] = {}
    cases["openai_edit"] = await start(me.client, n=2)
    cases["refused"] = await start(me.client, prompt="emulator-refuse")
    cases["replicate_webhook"] = await start(me.client, model="black-forest-labs/flux-schnell", n=2)
    for case in cases.values():
        await outcome(me.client, case)
    await emulator.fault("replicate", "webhook_lost", delay_s=0)
    cases["replicate_polled"] = await start(me.client, model="black-forest-labs/flux-schnell")
    await outcome(me.client, cases["replicate_polled"])
    await emulator.fault("replicate", "slow", delay_s=30)
    cases["cancelled"] = await start(me.client, model="black-forest-labs/flux-schnell")
    await asyncio.sleep(0.5)
    await me.client.post(f"/v1/jobs/{cases['cancelled']}/cancel")
    assert (await outcome(me.client, cases["cancelled"]))["status"] == "cancelled"
    for name, job_id in cases.items():
        history = await client.get_workflow_handle(image_workflow_id(job_id)).fetch_history()
        result = await replayer().replay_workflow(history)
        assert result.replay_failure is None, name
        await asyncio.to_thread((HISTORIES / f"{name}.json").write_text, history.to_json())


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_committed_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(f"image-{path.stem}", await asyncio.to_thread(path.read_text))
    result = await replayer().replay_workflow(history)
    assert result.replay_failure is None
