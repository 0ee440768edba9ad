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
from collections.abc import AsyncIterator, Callable
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
    config = "".join(
        (
            "model_list:\n",
            f"  - model_name: {MODEL}\n",
            "    litellm_params:\n",
            f"      model: openai/{MODEL}\n",
            f"      api_base: {emulator_url}/v1\n",
            "      api_key: sk-emulator\n",
            "litellm_settings:\n  drop_params: true\n",
        )
    )
    env = {"LITELLM_LOG": "ERROR", "DISABLE_ADMIN_UI": "True", "LITELLM_MASTER_KEY": LITELLM_KEY}
    async with _served(
        "litellm",
        lambda work, port: [
            executable,
            "--config",
            _written(work, config),
            "--port",
            str(port),
            "--num_workers",
            "1",
        ],
        env,
        "/health/liveliness",
        cores,
    ) as served:
        yield served


@contextlib.asynccontextmanager
async def durable_peer(stack: Stack) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]] | None]:
    """`bench.durable_peer_app` on the stack's own Temporal dev server, emulator and Redis;
    None when Pydantic AI (the `bench` extra) is not installed."""
    try:
        import pydantic_ai.durable_exec.temporal  # noqa: F401
    except ImportError:
        yield None
        return
    settings = stack.settings
    async with _served(
        "peer",
        lambda work, port: [
            sys.executable,
            "-m",
            "bench.durable_peer_app",
            "--port",
            str(port),
            "--temporal",
            settings.temporal_address,
            "--redis",
            settings.redis_url,
        ],  # fmt: skip
        {"PEER_EMULATOR_URL": stack.emulator_url, "PYTHONUNBUFFERED": "1"},
        "/health",
    ) as served:
        yield served


def _written(work: Path, config: str) -> str:
    path = work / "config.yaml"
    path.write_text(config)
    return str(path)


@contextlib.asynccontextmanager
async def _served(
    name: str,
    command: Callable[[Path, int], list[str]],
    env: dict[str, str],
    health: str,
    cores: set[int] | None = None,
) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """One contender's server process on a free port (its log in a temporary folder), until
    ``health`` answers 200; stopped with its process group afterwards."""
    work = Path(tempfile.mkdtemp(prefix=f"{name}-bench-"))
    port = free_port()
    with (work / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            command(work, port),
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=on_cores(cores),  # noqa: PLW1509 - the pinned run: alone on core 1
        )
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(f"{url}{health}", process)
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
