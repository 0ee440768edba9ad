"""kill -9 of the only documents worker while a deck's slides are being written: a new worker
finishes the deck once (one version, one set of files) and its tokens are settled exactly once,
for the attempts that completed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.db import Database
from core.settings import Settings
from tests.chat.helpers import read_events
from tests.chat.test_turns import tokens_usage
from tests.conftest import EmulatorControl, serve_app
from tests.processes import kill_hard, pulse_process, settings_env
from tests.slides.test_slides_api import reservation, start_deck, wait_status

pytestmark = [pytest.mark.slow, pytest.mark.chaos]


async def requests_to(emulator: EmulatorControl, provider: str) -> int:
    return int((await emulator.calls()).get(provider, {}).get("requests", 0))


async def test_documents_worker_killed_mid_content_completes_once_billed_once(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"slidechaos{uuid.uuid4().hex[:6]}-"})
    me = await sign_in()
    async with serve_app(own, run_worker=False) as url:
        client = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=60)
        with pulse_process(["worker", "-q", "documents"], settings_env(own), tmp_path / "w1.log") as first:
            started = await start_deck(client, slides=6)
            deck = await wait_status(client, started["deck_id"], "awaiting_outline", timeout=120)
            before = await requests_to(emulator, "openai")  # the outline's call
            await emulator.fault("openai", "slow", count=4, delay_s=4)  # the first batch of slides
            approved = await client.post(f"/v1/slides/{deck['id']}/outline", json=deck["outline"])
            assert approved.status_code == 200, approved.text
            deadline = asyncio.get_running_loop().time() + 60
            while await requests_to(emulator, "openai") < before + 4:  # the batch is under way
                assert asyncio.get_running_loop().time() < deadline, "the slides were never asked for"
                await asyncio.sleep(0.05)
            kill_hard(first)
        assert (await client.get(f"/v1/jobs/{started['job_id']}")).json()["status"] == "running"
        assert (await client.get(f"/v1/slides/{deck['id']}")).json()["status"] == "generating"
        with pulse_process(["worker", "-q", "documents"], settings_env(own), tmp_path / "w2.log"):
            stream = await read_events(client, started["events_url"])
            job = (await client.get(f"/v1/jobs/{started['job_id']}")).json()
            deck = (await client.get(f"/v1/slides/{deck['id']}")).json()
        await client.aclose()
    assert stream.last.type == "done", stream.events
    assert sum(e.type == "done" for e in stream.events) == 1
    # completed once: one version, one set of files
    assert job["status"] == "succeeded" and deck["status"] == "ready"
    assert deck["version"] == 1 and [v["version"] for v in deck["versions"]] == [1]
    names = sorted(o["name"] for o in job["outputs"])
    assert names == ["deck.json", "deck.pdf", "deck.pptx", *(f"slide-{i:02d}.png" for i in range(1, 7))]
    # the killed batch was asked again: more calls than slides, billed for what completed, once
    assert await requests_to(emulator, "openai") >= before + 4 + 6
    row, kinds = await reservation(db, f"slides-{started['job_id']}:tokens")
    assert kinds == ["reserve", "settle"] and row.status == "settled"
    assert row.charged == job["usage"]["tokens"] > 0
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == job["usage"]["tokens"] and tokens.reserved == 0
