"""Chaos fixtures: one production-shaped stack for the whole package (see stack.py; the modules
leave it running), and the settings that keep every scenario short. Durations (docs/operations.md
"Chaos suite"): a stream attempt that stays silent 2 s is replaced (production: 5 s), bookkeeping
retries at most 1 s apart (10 s), an orphaned job row is repaired after 3 s (30 s), checked every
second (10 s), a PostgreSQL statement that gets no answer fails after 4 s (10 s), a connect after
2 s (5 s). Outages last 8–12 s: longer than the old retry schedule (5 attempts in ~7.5 s) and
than the heartbeat timeout, so each defect still shows, without the 90 s of the original review
(``python -m bench chaos`` runs those lengths)."""

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
    "chat_outage_budget_seconds": 120.0,  # production's: the long runs (bench chaos) outlast 60 s
    "database_command_timeout_seconds": 4.0,  # 2 s failed lock waits of 30 starts at once
    "database_connect_timeout_seconds": 2.0,
    "chat_streams_in_api": False,  # replies stream on the `pulse worker`s (they are what we kill)
    "job_orphan_grace_seconds": 3.0,
    "job_sweep_interval_seconds": 1.0,
    "moderation_enabled": False,  # the emulator's counts are then chat calls only
    "ledger_sweeper_schedule": False,
    "auth_purge_schedule": False,
}


@pytest_asyncio.fixture(scope="package")
async def stack(
    settings: Settings, emulator_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """Temporal (own SQLite file), `pulse api`, a `pulse worker` on every queue and a standby
    on the chat queues; PostgreSQL and Redis behind proxies. Scenarios that kill a process
    start it again before they end."""
    work: Path = tmp_path_factory.mktemp("chaos")
    async with chaos_stack(settings, work, emulator_url, **CHAOS_SETTINGS) as running:
        running.start_worker("worker")
        running.start_worker("standby", "streams", "interactive")  # takes over a lost stream
        await running.start_api()
        await running.wait_workers_polling()
        yield running
