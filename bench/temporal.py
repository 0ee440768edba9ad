"""Temporal's own floor on this machine: what the dev server and the Python SDK cost for a
workflow shaped like a chat turn whose steps do nothing.

    python -m bench temporal

A chat turn is a local activity (reserve), an activity (the stream, eager, with a heartbeat
timeout), a local activity (settle), then the workflow completes. Here every step returns at
once, so the figures are the price of durability alone: the dev server's CPU per workflow and
the SDK's (client + worker, in this one process), the workflows per second 50 concurrent
callers get, and how long after the start request the activity begins (where a provider call
would start). The second shape runs everything in one workflow task (local activities only),
for comparison. `bench chat` is the full product; this shows the part of its cost that no
change in our code can remove.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from bench.stack import cpu_seconds, free_port, wait_port, written_bytes
from workflows.client import binary, dev_server_args, dev_server_file_args

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
WORKFLOWS = int(os.environ.get("BENCH_TEMPORAL_WORKFLOWS", "1000"))
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "40"))
QUEUE = "bench-floor"
STEP = timedelta(seconds=15)

_activity_started: dict[str, float] = {}  # workflow id → perf_counter when the activity began
_settle_started: dict[str, float] = {}  # workflow id → perf_counter when the last step began


@activity.defn(name="floor.step")
async def step(value: str) -> str:
    return value


@activity.defn(name="floor.settle")
async def settle(value: str) -> str:
    _settle_started[activity.info().workflow_id] = time.perf_counter()
    return value


@activity.defn(name="floor.call")
async def call(value: str) -> str:
    _activity_started[activity.info().workflow_id] = time.perf_counter()
    return value


@workflow.defn(name="FloorChatShape", sandboxed=False)
class FloorChatShape:
    """reserve (local) → stream (activity, eager, heartbeat timeout) → settle (local)."""

    @workflow.run
    async def run(self, value: str) -> str:
        await workflow.execute_local_activity(step, value, start_to_close_timeout=STEP)
        await workflow.execute_activity(
            call, value, start_to_close_timeout=timedelta(minutes=10), heartbeat_timeout=timedelta(seconds=5)
        )
        await workflow.execute_local_activity(settle, value, start_to_close_timeout=STEP)
        return value


@workflow.defn(name="FloorOneTask", sandboxed=False)
class FloorOneTask:
    """The same steps, all local: one workflow task."""

    @workflow.run
    async def run(self, value: str) -> str:
        await workflow.execute_local_activity(step, value, start_to_close_timeout=STEP)
        await workflow.execute_local_activity(call, value, start_to_close_timeout=STEP)
        await workflow.execute_local_activity(settle, value, start_to_close_timeout=STEP)
        return value


@dataclass
class Figures:
    to_call_ms: list[float]
    to_settle_ms: list[float]
    to_result_ms: list[float]
    per_second: float
    server_cpu_ms: float
    sdk_cpu_ms: float
    server_written_kb: float


async def _start_dev_server(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [
        binary("temporal"),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(free_port()),
        "--log-level",
        "error",
        *dev_server_file_args(str(work / "temporal.db")),
        *dev_server_args(),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await wait_port(port)
    return server, port


async def _connect(port: int, timeout_s: float = 30) -> Client:
    """The port opens before the frontend is healthy: retry until it answers."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await Client.connect(f"127.0.0.1:{port}")
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def _run_one(client: Client, shape: str) -> tuple[float, float, float]:
    """Milliseconds from the start request to the activity, to the last step, to the result."""
    workflow_id = f"floor-{uuid.uuid4().hex}"
    started = time.perf_counter()
    await client.execute_workflow(shape, "x", id=workflow_id, task_queue=QUEUE, request_eager_start=True)
    finished = time.perf_counter()
    called = _activity_started.pop(workflow_id, finished)
    settled = _settle_started.pop(workflow_id, finished)
    return (called - started) * 1000, (settled - started) * 1000, (finished - started) * 1000


async def _measure(client: Client, server_pid: int, shape: str) -> Figures:
    for _ in range(20):  # warm-up
        await _run_one(client, shape)
    sequential = [await _run_one(client, shape) for _ in range(SEQUENTIAL)]
    remaining = iter(range(WORKFLOWS))

    async def caller() -> None:
        for _ in remaining:
            await _run_one(client, shape)

    server_before, sdk_before, began = cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    written_before = written_bytes(server_pid)
    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - began
    server_cpu = (cpu_seconds(server_pid) - server_before) * 1000 / WORKFLOWS
    sdk_cpu = (time.process_time() - sdk_before) * 1000 / WORKFLOWS
    written_kb = (written_bytes(server_pid) - written_before) / 1024 / WORKFLOWS
    return Figures(
        [s[0] for s in sequential],
        [s[1] for s in sequential],
        [s[2] for s in sequential],
        WORKFLOWS / elapsed,
        server_cpu,
        sdk_cpu,
        written_kb,
    )


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def _report(name: str, figures: Figures) -> str:
    return (
        f"{name:<34} sequential p50: activity starts {_p(figures.to_call_ms, 0.5):5.1f} ms, "
        f"last step {_p(figures.to_settle_ms, 0.5):5.1f} ms, "
        f"result {_p(figures.to_result_ms, 0.5):5.1f} ms | "
        f"{CONCURRENCY} concurrent: {figures.per_second:5.1f} workflows/s, CPU per workflow: "
        f"dev server {figures.server_cpu_ms:4.1f} ms, SDK {figures.sdk_cpu_ms:4.1f} ms; "
        f"dev server wrote {figures.server_written_kb:5.0f} KB"
    )


async def run() -> None:
    with tempfile.TemporaryDirectory(prefix="pulse-bench-temporal-") as work:
        server, port = await _start_dev_server(Path(work))
        try:
            client = await _connect(port)
            async with Worker(
                client,
                task_queue=QUEUE,
                workflows=[FloorChatShape, FloorOneTask],
                activities=[step, call, settle],
                max_concurrent_activities=CONCURRENCY * 2,
            ):
                chat_shape = await _measure(client, server.pid, "FloorChatShape")
                one_task = await _measure(client, server.pid, "FloorOneTask")
        finally:
            server.terminate()
            server.wait(timeout=15)
    print(
        f"empty steps, dev server as in `bench chat`, {os.cpu_count()} cores, {WORKFLOWS} workflows per shape"
    )
    print(_report("chat-turn shape (local, activity, local)", chat_shape))
    print(_report("one workflow task (3 local)", one_task))


def main(argv: list[str]) -> int:
    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
