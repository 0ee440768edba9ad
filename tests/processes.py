"""Run `pulse api` / `pulse worker` as real processes configured only by environment."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def settings_env(settings: Settings, **overrides: Any) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    own = settings.model_copy(update=overrides).to_env()
    return {**inherited, **own, "PYTHONUNBUFFERED": "1"}


@contextmanager
def pulse_process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", *args],
            env=env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} not ready")
            await asyncio.sleep(0.25)
