"""Image benchmark: our overhead from request to ``done`` with zero provider delay, and jobs
per minute at 10 concurrent, on a real stack (PostgreSQL, Temporal dev server, emulator,
``pulse api`` + ``pulse worker``).

Overhead = time from ``POST /v1/images`` to the ``done`` event (read over SSE: the images are
in our storage, thumbnailed, in the gallery and billed) minus the same generation called on the
emulator directly. For Replicate the prediction finishes at once and its webhook ends the wait.
``BENCH_IMAGES_SEQUENTIAL`` (default 30) and ``BENCH_IMAGES_CONCURRENT_JOBS`` (default 60)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import httpx

from bench.chat import sign_in
from bench.stack import Stack, running_stack

SEQUENTIAL = int(os.environ.get("BENCH_IMAGES_SEQUENTIAL", "30"))
CONCURRENT_JOBS = int(os.environ.get("BENCH_IMAGES_CONCURRENT_JOBS", "60"))
CONCURRENCY = 10
OPENAI = {"model": "gpt-image-1", "prompt": "فانوس في البتراء", "size": "1024x1024", "n": 1}
REPLICATE = {
    "model": "black-forest-labs/flux-schnell",
    "prompt": "فانوس في البتراء",
    "size": "1024x1024",
    "n": 1,
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def until_done(client: httpx.AsyncClient, body: dict[str, Any]) -> float:
    """Seconds from the create request to the job's terminal event."""
    started = time.perf_counter()
    created = await client.post("/v1/images", json=body)
    created.raise_for_status()
    async with client.stream("GET", created.json()["events_url"]) as events:
        async for line in events.aiter_lines():
            if line in ("event: done", "event: error"):
                if line == "event: error":
                    raise RuntimeError(f"job failed: {created.json()['job_id']}")
                return time.perf_counter() - started
    raise RuntimeError("events ended without done")


async def direct(emulator_url: str) -> float:
    body = {"model": "gpt-image-1", "prompt": OPENAI["prompt"], "size": "1024x1024", "n": 1}
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        response = await client.post(
            f"{emulator_url}/v1/images/generations", json=body, headers={"Authorization": "Bearer k"}
        )
        response.raise_for_status()
        return time.perf_counter() - started


async def top_up(stack: Stack, token: str, amount: int) -> None:
    from core import ledger
    from core.db import Database

    db = Database(stack.settings.database_url)
    async with httpx.AsyncClient(base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}) as c:
        user_id = (await c.get("/v1/auth/me")).json()["id"]
    async with db.session() as session:
        await ledger.adjust(
            session,
            user_id=user_id,
            unit="images",
            delta=amount,
            actor_id=user_id,
            reason="bench",
            key=f"b-{user_id}",
        )
    await db.dispose()


def line(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{label:<44} p50 {statistics.median(ms):7.1f} ms   p95 {pct(ms, 0.95):7.1f} ms   (n={len(ms)})"


async def run() -> None:
    async with running_stack() as stack:
        [token] = await sign_in(stack, 1)
        await top_up(stack, token, SEQUENTIAL * 2 + CONCURRENT_JOBS + 10)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=120) as client:
            for body in (OPENAI, REPLICATE):  # warm up: SDK imports, connections
                await until_done(client, body)
            provider = [await direct(stack.emulator_url) for _ in range(SEQUENTIAL)]
            openai_runs = [await until_done(client, OPENAI) for _ in range(SEQUENTIAL)]
            replicate_runs = [await until_done(client, REPLICATE) for _ in range(SEQUENTIAL)]
            base = statistics.median(provider)
            print(line("emulator generation alone (1024x1024 PNG)", provider))
            print(line("gpt-image-1: request → done", openai_runs))
            print(line("  overhead (minus the emulator's median)", [v - base for v in openai_runs]))
            print(line("flux-schnell (webhook): request → done", replicate_runs))
            print(line("  overhead (minus the emulator's median)", [v - base for v in replicate_runs]))

            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(CONCURRENT_JOBS):
                queue.put_nowait(i)
            durations: list[float] = []

            async def runner() -> None:
                while not queue.empty():
                    queue.get_nowait()
                    durations.append(await until_done(client, OPENAI))

            cpu_before = stack.cpu()
            started = time.perf_counter()
            await asyncio.gather(*(runner() for _ in range(CONCURRENCY)))
            elapsed = time.perf_counter() - started
            cpu_after = stack.cpu()
        per_job = {k: (cpu_after[k] - cpu_before.get(k, 0)) * 1000 / CONCURRENT_JOBS for k in cpu_after}
        rate = CONCURRENT_JOBS / elapsed * 60
        print(f"{CONCURRENCY} concurrent: {rate:.0f} jobs/min ({CONCURRENT_JOBS} jobs, {elapsed:.1f} s)")
        print(line("  request → done at 10 concurrent", durations))
        print("  CPU ms per job: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(per_job.items())))
        print(f"  peak RSS MB: {stack.peak_rss()}")


def main(argv: list[str]) -> int:
    asyncio.run(run())
    return 0
