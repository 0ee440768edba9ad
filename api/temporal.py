"""The API's Temporal connection: connects in the background (never blocks start-up), runs the
in-process interactive worker once connected, and answers readiness checks."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from core.settings import Settings
from worker import WorkerDeps, build_workers
from workflows import INTERACTIVE
from workflows.client import connect_with_backoff

log = structlog.get_logger(__name__)
# Eager start puts each turn's workflow tasks (and its ledger local activities) in this
# process: the lowest latency. The heavy part, streaming the reply, runs here eagerly only while
# a slot is free; past that it goes to the dedicated workers, and this worker's few pollers
# leave queued tasks to them too, so the API's one core serves HTTP. The waiting poll holds a
# slot, so 3 slots = 2 eager streams (with 2, eager dispatch never found one free).
# (Measured at 50 concurrent streams: fewer slots beat 8; making the start itself non-eager
# under load moved work to the workers but cost more CPU in all, and fewer turns per second.)
API_ACTIVITY_SLOTS = 3


class TemporalConnection:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Client | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._workers: list[Worker] = []

    def start(self, deps: WorkerDeps | None) -> None:
        """Connect in the background; with ``deps``, also run an interactive-queue worker."""
        self._task = asyncio.create_task(self._connect_and_serve(deps))

    async def _connect_and_serve(self, deps: WorkerDeps | None) -> None:
        self.client = await connect_with_backoff(self.settings)
        self._ready.set()
        log.info("temporal.connected", address=self.settings.temporal_address)
        if deps is not None:
            # Eager activities keep a quiet turn in this process (lowest latency); past a few
            # concurrent streams, eager dispatch finds no free slot and dedicated workers take them.
            self._workers = build_workers(
                self.client,
                deps,
                [INTERACTIVE],
                max_concurrent_activities=API_ACTIVITY_SLOTS,
                max_concurrent_workflow_task_polls=2,
                max_concurrent_activity_task_polls=1,
            )
            await asyncio.gather(*(w.run() for w in self._workers))

    async def get(self, timeout: float = 5.0) -> Client:
        """The client, waiting briefly for the first connection."""
        if self.client is not None:  # every request asks: no wait_for (a task each) once connected
            return self.client
        await asyncio.wait_for(self._ready.wait(), timeout)
        assert self.client is not None
        return self.client

    async def check(self, timeout: float = 2.0) -> None:
        """Raise when Temporal does not answer a health check in time."""
        client = await self.get(timeout)
        await client.service_client.check_health(timeout=timedelta(seconds=timeout))

    async def stop(self) -> None:
        for running in self._workers:
            with contextlib.suppress(Exception):
                await running.shutdown()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
