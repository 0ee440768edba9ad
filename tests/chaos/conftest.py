"""Chaos fixtures: one production-shaped stack per module (see stack.py), and the settings that
keep every scenario short. Durations (docs/operations.md "Chaos suite"): a stream attempt that
stays silent 2 s is replaced (production: 5 s), bookkeeping retries at most 1 s apart (10 s),
an orphaned job row is repaired after 3 s (30 s), checked every second (10 s). Outages last
8–12 s: longer than the old retry schedule (5 attempts in ~7.5 s) and than the heartbeat timeout,
so each defect still shows, without the 90 s of the original review."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from core.settings import Settings
from tests.chaos.stack import Stack, chaos_stack

CHAOS_SETTINGS: dict[str, object] = {
    "chat_heartbeat_timeout_seconds": 2.0,
    "chat_bookkeeping_retry_cap_seconds": 1.0,
    "chat_outage_budget_seconds": 60.0,
    "chat_streams_in_api": False,  # replies stream on the `pulse worker`s (they are what we kill)
    "job_orphan_grace_seconds": 3.0,
    "job_sweep_interval_seconds": 1.0,
    "moderation_enabled": False,  # the emulator's counts are then chat calls only
    "ledger_sweeper_schedule": False,
    "auth_purge_schedule": False,
}


@pytest_asyncio.fixture(scope="module")
async def stack(
    settings: Settings, emulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Temporal (own SQLite file), `pulse api`, a `pulse worker` on every queue and a standby
    on the chat queues; PostgreSQL
    and Redis behind proxies. Scenarios that kill a process start it again before they end."""
    work: Path = tmp_path_factory.mktemp("chaos")
    async with chaos_stack(settings, work, emulator_url, **CHAOS_SETTINGS) as running:
        running.start_worker("worker")
        running.start_worker("standby", "streams", "interactive")  # takes over a lost stream
        await running.start_api()
        await running.wait_workers_polling()
        yield running
