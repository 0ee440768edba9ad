"""A throwaway real stack for benchmarks: PostgreSQL database, Temporal dev server, emulator,
and `pulse api` + `pulse worker` processes (so their memory can be measured)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from core.migrate import upgrade_async
from core.settings import Env, Settings
from workflows import SEARCH_ATTRIBUTES
from workflows.client import binary, dev_server_args, dev_server_file_args

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("PULSE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def written_bytes(pid: int) -> int:
    """Bytes a process has caused to be written to storage (0 when it is gone)."""
    try:
        lines = Path(f"/proc/{pid}/io").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("write_bytes:")), 0)


def _pids_named(prefix: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith(prefix):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@dataclass
class Stack:
    settings: Settings
    api_url: str
    emulator_url: str
    processes: dict[str, subprocess.Popen[bytes]]
    helpers: dict[str, subprocess.Popen[bytes]]

    def peak_rss(self) -> dict[str, float]:
        return {name: peak_rss_mb(p.pid) for name, p in self.processes.items() if p.poll() is None}

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of every part of the stack (PostgreSQL and Redis: all their
        processes on the machine), to see where a turn's CPU goes."""
        usage = {name: cpu_seconds(p.pid) for name, p in {**self.processes, **self.helpers}.items()}
        usage["postgres"] = sum(cpu_seconds(pid) for pid in _pids_named("postgres"))
        usage["redis"] = sum(cpu_seconds(pid) for pid in _pids_named("redis-server"))
        usage["bench"] = cpu_seconds(os.getpid())
        return usage


def _env(settings: Settings) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    return {**inherited, **settings.to_env(), "PYTHONUNBUFFERED": "1"}


# The pinned run (docs/chat.md "Pinned"): production's shape on two cores. Temporal (on its own
# machines in production), the emulator and the bench client on core 0; ours on core 1.
CORE_TEMPORAL = {0}
CORE_OURS = {1}
PINNED_CORES = {"temporal": CORE_TEMPORAL, "emulator": CORE_TEMPORAL, "api": CORE_OURS, "worker": CORE_OURS}


def on_cores(cores: set[int] | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that starts the child (and so all its threads) on ``cores``."""
    if cores is None:
        return None
    return lambda: os.sched_setaffinity(0, cores)


@contextlib.contextmanager
def services_pinned(cores: set[int]) -> Iterator[list[int]]:
    """PostgreSQL and Redis (system services, shared with the machine) on ``cores`` for the
    pinned rounds, every core again afterwards; the postmaster too, so new backends inherit."""
    pids = _pids_named("postgres") + _pids_named("redis-server")
    every = set(range(os.cpu_count() or 1))
    pinned = []
    for pid in pids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cores)
            pinned.append(pid)
    try:
        yield pinned
    finally:
        for pid in _pids_named("postgres") + _pids_named("redis-server"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(pid, every)


@contextlib.asynccontextmanager
async def running_stack(*, token_ms: int = 0, ttft_ms: int = 0, pinned: bool = False) -> AsyncIterator[Stack]:
    work = Path(tempfile.mkdtemp(prefix="pulse-bench-"))
    name = f"pulse_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    await upgrade_async(database_url)
    temporal_port, ui_port, emulator_port, http_port = free_port(), free_port(), free_port(), free_port()
    settings = Settings(
        env=Env.test,
        var_dir=work,
        database_url=database_url,
        temporal_port=temporal_port,
        http_port=http_port,
        emulator_port=emulator_port,
        redis_url="redis://127.0.0.1:6379/0",
        redis_prefix=f"bench-{name}:",
        secret_key="bench-" + "s" * 40,
        log_level="WARNING",
        moderation_enabled=True,
        rate_limit_magic_link_ip="100000/minute",
        rate_limit_verify_ip="100000/minute",
        rate_limit_api_user="100000/minute",
    )
    env = _env(settings)
    logs = work / "logs"
    logs.mkdir()
    temporal_cmd = [
        binary("temporal"),
        "server",
        "start-dev",
        "--headless",
        "--ip",
        "127.0.0.1",
        "--port",
        str(temporal_port),
        "--ui-port",
        str(ui_port),
        "--log-level",
        "error",
        *dev_server_file_args(str(work / "temporal.db")),
        *[a for k in SEARCH_ATTRIBUTES for a in ("--search-attribute", f"{k.name}=Keyword")],
        *dev_server_args(),
    ]
    commands = {
        "temporal": temporal_cmd,
        "emulator": [
            sys.executable,
            "-m",
            "emulator",
            "--port",
            str(emulator_port),
            "--ttft-ms",
            str(ttft_ms),
            "--token-ms",
            str(token_ms),
        ],
        "worker": [sys.executable, "-m", "cli", "worker"],
        "api": [sys.executable, "-m", "cli", "api"],
    }
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for key, command in commands.items():
            with (logs / f"{key}.log").open("wb") as log:
                processes[key] = subprocess.Popen(
                    command,
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=on_cores(PINNED_CORES[key] if pinned else None),  # noqa: PLW1509
                )
            if key == "temporal":
                await wait_port(temporal_port)
        api_url = f"http://127.0.0.1:{http_port}"
        await _wait_ready(api_url)
        yield Stack(
            settings,
            api_url,
            f"http://127.0.0.1:{emulator_port}",
            {"api": processes["api"], "worker": processes["worker"]},
            {"temporal": processes["temporal"], "emulator": processes["emulator"]},
        )
    finally:
        for process in reversed(list(processes.values())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(work, ignore_errors=True)


async def wait_port(port: int, timeout: float = 30) -> None:
    for _ in range(int(timeout * 10)):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"port {port}")


async def _wait_ready(url: str, timeout: float = 90) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout * 4)):
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.25)
    raise TimeoutError(f"{url} not ready")
