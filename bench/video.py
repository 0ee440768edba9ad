"""Video benchmark on a real stack (PostgreSQL, Temporal dev server, emulator, ``pulse api`` +
``pulse worker``), Runway renders through the runwayml SDK:

1. overhead from the provider's ``done`` (the emulator's render end) to our ``done`` event for
   a 5 MB file: the last poll (``PULSE_VIDEO_POLL_MAX_SECONDS``, 0.25 s here, so the poll gap
   is visible apart), download streamed to a file, probe + poster, store, settle, ``done``;
2. the worker's resident memory while it stores a 200 MB file (sampled every 20 ms): the file
   is streamed provider → temporary file → storage, so it must not grow by the file's size.
``BENCH_VIDEO_RUNS`` (default 10) runs of (1)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

import httpx

from bench.chat import sign_in
from bench.stack import Stack, running_stack

RUNS = int(os.environ.get("BENCH_VIDEO_RUNS", "10"))
BODY = {"model": "runway/veo3.1_fast", "prompt": "جمل في وادي رم", "duration": 4, "aspect_ratio": "16:9"}
POLL_MAX_S = 0.25


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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
            unit="videos",
            delta=amount,
            actor_id=user_id,
            reason="bench",
            key=f"v-{user_id}",
        )
    await db.dispose()


async def render(client: httpx.AsyncClient, emulator: str) -> tuple[float, str]:
    """(seconds from the provider's done to our done event, job id)."""
    created = await client.post("/v1/videos", json=BODY)
    created.raise_for_status()
    job_id = created.json()["job_id"]
    async with client.stream("GET", created.json()["events_url"]) as events:
        async for line in events.aiter_lines():
            if line in ("event: done", "event: error"):
                ours = time.time()
                if line == "event: error":
                    raise RuntimeError(f"video failed: {job_id}")
                break
    provider_job = (await client.get(f"/v1/jobs/{job_id}")).json()
    assert provider_job["status"] == "succeeded"
    renders = (await client.get(f"{emulator}/_emulator/video/renders")).json()
    newest = max(renders.values(), key=lambda r: r["done_at"])
    return ours - newest["done_at"], job_id


async def configure(client: httpx.AsyncClient, emulator: str, render_s: float, pad_mb: int) -> None:
    response = await client.post(f"{emulator}/_emulator/video", json={"render_s": render_s, "pad_mb": pad_mb})
    response.raise_for_status()


async def run() -> None:
    os.environ["PULSE_VIDEO_POLL_INITIAL_SECONDS"] = str(POLL_MAX_S)
    os.environ["PULSE_VIDEO_POLL_MAX_SECONDS"] = str(POLL_MAX_S)
    async with running_stack() as stack:
        [token] = await sign_in(stack, 1)
        await top_up(stack, token, RUNS + 5)
        headers = {"Authorization": f"Bearer {token}"}
        emulator = stack.emulator_url
        async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=300) as client:
            await configure(client, emulator, 1.0, 5)
            await render(client, emulator)  # warm up: SDK imports, connections
            overheads = [(await render(client, emulator))[0] for _ in range(RUNS)]
            ms = sorted(v * 1000 for v in overheads)
            print(
                f"5 MB video, provider done → our done: p50 {statistics.median(ms):.0f} ms, "
                f"max {ms[-1]:.0f} ms (n={len(ms)}; includes up to {POLL_MAX_S * 1000:.0f} ms of poll gap)"
            )
            worker = stack.processes["worker"].pid
            await configure(client, emulator, 0.5, 200)
            baseline = rss_mb(worker)
            samples: list[float] = []
            task = asyncio.create_task(render(client, emulator))
            while not task.done():
                samples.append(rss_mb(worker))
                await asyncio.sleep(0.02)
            _, job_id = await task
            size = (await client.get(f"/v1/videos/{job_id}")).json()["size"]
            print(
                f"storing a {size / 1024 / 1024:.0f} MB video: worker RSS {baseline:.0f} MB before, "
                f"peak {max(samples):.0f} MB during (+{max(samples) - baseline:.0f} MB)"
            )


def main(argv: list[str]) -> int:
    asyncio.run(run())
    return 0
