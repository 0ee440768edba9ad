"""No cold start (docs/chat.md "Cold start"): right after `pulse api` starts, each provider's
first turn reaches its first token about as fast as its fifth. A real `pulse api` process (with
its interactive worker), the real dev server, PostgreSQL, Redis and the emulator."""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from tests.chat.helpers import Event, read_events
from tests.conftest import EmulatorControl, free_port
from tests.processes import pulse_process, settings_env, wait_ready

pytestmark = pytest.mark.serial  # a first-vs-warm ratio: measured with nothing else running
MODELS = ["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"]
TTFT_MS = 200  # the provider's own time to first token: the ratio is about what Pulse adds


async def time_to_first_delta(client: httpx.AsyncClient, model: str) -> float:
    seen: list[float] = []

    async def on_event(event: Event) -> None:
        if event.type == "delta" and not seen:
            seen.append(time.perf_counter())

    started = time.perf_counter()
    response = await client.post("/v1/chat/turns", json={"model": model, "message": "مرحبا"})
    assert response.status_code == 202, response.text
    stream = await read_events(client, response.json()["events_url"], on_event=on_event)
    assert stream.last.type == "done", stream.events
    return seen[0] - started


async def wait_warm(log: Path, timeout: float = 60) -> None:
    """The warm-up runs after readiness (readiness never waits for it); it logs `warm.done`."""
    deadline = time.monotonic() + timeout
    while b"warm.done" not in (output := await asyncio.to_thread(log.read_bytes)):
        assert time.monotonic() < deadline, output[-2000:]
        await asyncio.sleep(0.1)


async def measure(client: httpx.AsyncClient) -> dict[str, list[float]]:
    """Five turns per provider, one after another; this test process's own collector kept out
    of the figures (its full collections take up to 0.8 s here and land on any turn)."""
    await client.get("/healthz")  # the client's connection and code paths, not the server's
    gc.collect()
    gc.freeze()
    try:
        return {model: [await time_to_first_delta(client, model) for _ in range(5)] for model in MODELS}
    finally:
        gc.unfreeze()


async def test_first_turn_per_provider_is_as_fast_as_the_fifth(
    settings: Settings, sign_in: Any, emulator: EmulatorControl, tmp_path: Path
) -> None:
    """The process's very first turn too: its routes, statements, payload adapters and heap
    are made ready by the warm-up (without it that turn took ~0.3 s more, 2-5 s per provider
    before the SDK warm-up)."""
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"cold{uuid.uuid4().hex[:6]}-"})
    me = await sign_in()
    # A returning user (their period exists): a new account's first turn also creates it.
    assert (await me.client.get("/v1/usage/me")).status_code == 200
    port = free_port()
    log = tmp_path / "api.log"
    await emulator.http.post(f"{emulator.url}/_emulator/latency", json={"ttft_ms": TTFT_MS, "token_ms": 0})
    with pulse_process(["api"], settings_env(own, http_port=port), log):
        url = f"http://127.0.0.1:{port}"
        await wait_ready(url)
        await wait_warm(log)
        headers = {"Authorization": f"Bearer {me.token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            timings = await measure(client)
    for model, (first, *warm) in timings.items():
        fifth = statistics.median(warm)  # a warm turn: the median of the 2nd-5th (one can be noisy)
        assert first <= 1.5 * fifth, f"{model}: first {first:.3f} s, warm {fifth:.3f} s ({timings})"
