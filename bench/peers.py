"""The other contenders of `bench chat`, each its own process against the same emulator:
LiteLLM's proxy and the durable peer (Pydantic AI on the same Temporal dev server)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bench.stack import ROOT, Stack, free_port, on_cores

MODEL = "gpt-5-mini"
LITELLM_KEY = "sk-bench-" + "0123456789abcdef" * 4


@contextlib.asynccontextmanager
async def litellm_proxy(
    emulator_url: str, cores: set[int] | None = None
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]] | None]:
    executable = shutil.which("litellm") or str(Path(sys.executable).with_name("litellm"))
    if not Path(executable).exists():
        yield None
        return
    work = Path(tempfile.mkdtemp(prefix="litellm-bench-"))
    config = work / "config.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {emulator_url}/v1\n"
        "      api_key: sk-emulator\n"
        "litellm_settings:\n  drop_params: true\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "LITELLM_LOG": "ERROR",
        "DISABLE_ADMIN_UI": "True",
        "LITELLM_MASTER_KEY": LITELLM_KEY,
    }
    with (work / "litellm.log").open("wb") as log:
        process = subprocess.Popen(
            [executable, "--config", str(config), "--port", str(port), "--num_workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=on_cores(cores),  # noqa: PLW1509 - the pinned run: alone on core 1
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(f"{url}/health/liveliness", process)
        yield url, process
    finally:
        os.killpg(process.pid, 15)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


@contextlib.asynccontextmanager
async def durable_peer(stack: Stack) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]] | None]:
    """`bench.durable_peer_app` on the stack's own Temporal dev server, emulator and Redis;
    None when Pydantic AI (the `bench` extra) is not installed."""
    try:
        import pydantic_ai.durable_exec.temporal  # noqa: F401
    except ImportError:
        yield None
        return
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="peer-bench-"))
    env = {**os.environ, "PEER_EMULATOR_URL": stack.emulator_url, "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "bench.durable_peer_app",
        "--port",
        str(port),
        "--temporal",
        stack.settings.temporal_address,
        "--redis",
        stack.settings.redis_url,
    ]
    with (work / "peer.log").open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(f"{url}/health", process)
        yield url, process
    finally:
        os.killpg(process.pid, 15)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


async def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout * 2)):
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")
