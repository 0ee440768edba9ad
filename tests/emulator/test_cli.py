"""`python -m emulator` serves on the given port; `pulse dev` runs it before the worker."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli import dev_children
from core.settings import Env, Settings
from tests.conftest import free_port


def test_python_m_emulator_serves(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--ttft-ms", "0", "--token-ms", "0"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/_emulator/calls", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert response.json()["openai"]["requests"] == 0
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_dev_stack_starts_the_emulator_before_the_worker(tmp_path: Path) -> None:
    settings = Settings(env=Env.dev, emulator_port=9876, var_dir=tmp_path)
    children = dev_children(settings, tmp_path)
    names = [child.name for child in children]
    assert names.index("emulator") < names.index("worker")
    emulator = children[names.index("emulator")]
    assert emulator.command[1:] == ["-m", "emulator", "--port", "9876"]
