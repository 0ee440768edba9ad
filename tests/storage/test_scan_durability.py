"""kill -9 of the worker in the middle of a scan: the scan runs again on a new worker and the
file gets exactly one outcome (real processes sharing PostgreSQL, Redis, Temporal, clamd)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from providers.storage import ASSETS, QUARANTINE, LocalStorage
from tests.chat.helpers import Event, read_events
from tests.conftest import serve_app
from tests.processes import kill_hard, pulse_process, settings_env
from tests.storage.helpers import create, post_form

pytestmark = [pytest.mark.slow, pytest.mark.chaos]


async def test_worker_killed_mid_scan_finishes_after_restart_with_one_outcome(
    settings: Settings, sign_in: Any, clamd: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"scan{uuid.uuid4().hex[:6]}-"})
    env = settings_env(
        own, files_sweeper_schedule=False, ledger_sweeper_schedule=False, auth_purge_schedule=False
    )
    me = await sign_in()
    body = os.urandom(8 * 1024 * 1024)  # bigger than the socket buffers: the stream must wait
    storage = LocalStorage(own.storage_dir, own.secret_key.get_secret_value())
    async with serve_app(own, run_worker=False) as url:
        api = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=60)
        created = (await create(api, "archive.txt", "application/pdf", len(body), purpose="document")).json()
        assert (
            await post_form(created["upload"], b"%PDF-1.7\n" + body[9:], "application/pdf")
        ).status_code == 204
        file_id = created["file_id"]
        os.kill(clamd.pid, signal.SIGSTOP)  # the scan will hang inside INSTREAM
        try:
            with pulse_process(["worker", "-q", "background"], env, tmp_path / "w1.log") as first:
                completed = (await api.post(f"/v1/files/{file_id}/complete")).json()
                seen: list[Event] = []

                async def on_event(event: Event) -> None:
                    seen.append(event)

                await read_events(api, completed["events_url"], on_event=on_event, stop_after=3)
                assert [e.data["step"] for e in seen] == ["started", "check", "scan"], seen
                await asyncio.sleep(1.5)  # the scan activity is stuck sending to a stopped clamd
                kill_hard(first)
        finally:
            os.kill(clamd.pid, signal.SIGCONT)
        assert (await api.get(f"/v1/files/{file_id}")).json()["status"] == "scanning"
        with pulse_process(["worker", "-q", "background"], env, tmp_path / "w2.log"):
            stream = await read_events(api, completed["events_url"])
        final = (await api.get(f"/v1/files/{file_id}")).json()
        job = (await api.get(f"/v1/jobs/{file_id}")).json()
        await api.aclose()
    assert stream.last.type == "done", stream.events
    terminal = [e for e in stream.events if e.type in ("done", "error")]
    assert len(terminal) == 1
    attempts = {e.data["attempt"] for e in stream.of("progress")}
    assert max(attempts) >= 2, "the scan ran again after the kill"
    assert final["status"] == "ready" and job["status"] == "succeeded" and len(job["outputs"]) == 1
    key = f"u/{me.user_id}/file/{file_id}/archive.txt"
    assert await storage.exists(ASSETS, key) and not await storage.exists(QUARANTINE, key)
