"""The production shape for chaos tests, made of real parts the test can break: a Temporal dev
server on its own SQLite file (stop, restart), `pulse api` and `pulse worker` processes (kill -9,
freeze, restart), and PostgreSQL and Redis each behind a TcpProxy (refuse, reset, black-hole).

Reusable by every job kind: nothing here knows about chat except the sign-in helper."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from temporalio.client import Client

from bench.stack import wait_port
from core.db import Database
from core.migrate import upgrade_async
from core.settings import Settings
from tests.chaos.proxy import TcpProxy
from tests.conftest import PG_ADMIN_DSN, free_port, link_token, request_link
from tests.processes import ROOT, settings_env, wait_ready
from workflows import SEARCH_ATTRIBUTES
from workflows.client import binary, dev_server_args, dev_server_file_args


class Process:
    """One `pulse …` (or any) command as a real child process in its own process group."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.command, self.env, self.log = name, command, env, log
        self.popen: subprocess.Popen[bytes] | None = None
        self.log_offset = 0  # where this run's output starts in the (appended) log

    def start(self) -> Process:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as handle:
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.running:
            assert self.popen is not None
            os.killpg(self.popen.pid, sig)

    def kill9(self) -> None:
        """kill -9: no shutdown code runs (a crash, an OOM kill, a lost machine)."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()

    def freeze(self) -> None:
        """SIGSTOP: the process holds its sockets and does nothing (a long GC pause, a VM stall)."""
        self.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)

    def stop(self, timeout: float = 5) -> None:
        if not self.running:
            return
        assert self.popen is not None
        self.thaw()
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()


def pulse(name: str, args: list[str], env: dict[str, str], logs: Path) -> Process:
    return Process(name, [sys.executable, "-m", "cli", *args], env, logs / f"{name}.log")


class TemporalServer:
    """The Temporal dev server on its own SQLite file: a stop and a restart keep its state, as
    a real cluster's persistence does."""

    def __init__(self, work: Path) -> None:
        self.port, self.ui_port = free_port(), free_port()
        self.file = work / "temporal.db"
        command = [
            binary("temporal"),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "error",
            *dev_server_file_args(str(self.file)),
            *[a for k in SEARCH_ATTRIBUTES for a in ("--search-attribute", f"{k.name}=Keyword")],
            *dev_server_args(),
        ]
        self.process = Process("temporal", command, dict(os.environ), work / "temporal.log")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process.start()
        await wait_port(self.port, timeout=60)

    def stop(self) -> None:
        self.process.stop()

    async def restart(self) -> None:
        self.stop()
        await self.start()


@dataclass
class Stack:
    """What a chaos scenario drives. ``settings`` are what the processes run with (PostgreSQL
    and Redis through the proxies); ``db`` reaches PostgreSQL directly, for assertions."""

    work: Path
    settings: Settings
    db: Database
    temporal: TemporalServer
    postgres: TcpProxy
    redis: TcpProxy
    emulator_url: str
    processes: dict[str, Process] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"

    def env(self, **overrides: object) -> dict[str, str]:
        return settings_env(self.settings, **overrides)

    async def start_api(self, name: str = "api") -> Process:
        process = pulse(name, ["api"], self.env(), self.work).start()
        self.processes[name] = process
        await wait_ready(self.api_url, timeout=90)
        return process

    def start_worker(self, name: str, *queues: str) -> Process:
        args = ["worker", *[a for q in queues for a in ("-q", q)]]
        process = pulse(name, args, self.env(), self.work).start()
        self.processes[name] = process
        return process

    def output(self, name: str) -> bytes:
        """What the process called ``name`` logged since it was last started."""
        process = self.processes[name]
        return process.log.read_bytes()[process.log_offset :]

    async def wait_workers_polling(self, timeout: float = 60) -> None:
        """Until every worker process has logged, since its last start, that it polls."""
        deadline = asyncio.get_running_loop().time() + timeout
        for process in self.processes.values():
            if process.name.startswith("api"):
                continue
            while b"worker.started" not in self.output(process.name):
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"{process.name} did not start")
                await asyncio.sleep(0.2)

    async def temporal_client(self) -> Client:
        return await Client.connect(self.temporal.address, namespace=self.settings.temporal_namespace)

    async def activity_attempts(self, workflow_id: str, activity_type: str) -> int:
        """How many attempts of ``activity_type`` ``workflow_id`` started (its history's last
        started attempt): a heartbeat timed out under load makes one more than the fault did."""
        client = await self.temporal_client()
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        scheduled = {
            event.event_id: event.activity_task_scheduled_event_attributes.activity_type.name
            for event in history.events
            if event.HasField("activity_task_scheduled_event_attributes")
        }
        started = [
            event.activity_task_started_event_attributes
            for event in history.events
            if event.HasField("activity_task_started_event_attributes")
        ]
        return max(
            (each.attempt for each in started if scheduled[each.scheduled_event_id] == activity_type),
            default=0,
        )

    async def activity_process(self, workflow_id: str, timeout: float = 10) -> Process:
        """The process running ``workflow_id``'s pending activity (from the worker identity
        Temporal records, ``<pid>@<host>``): the one to kill or freeze mid-activity."""
        client = await self.temporal_client()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            description = await client.get_workflow_handle(workflow_id).describe()
            for pending in description.raw_description.pending_activities:
                pid = pending.last_worker_identity.split("@", 1)[0]
                for process in self.processes.values():
                    if process.popen is not None and str(process.popen.pid) == pid:
                        return process
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no process of ours runs {workflow_id}'s activity")
            await asyncio.sleep(0.1)

    async def sign_in(self, locale: str = "en") -> httpx.AsyncClient:
        """A new person, signed in through the real magic-link flow on this stack's API."""
        email = f"chaos-{uuid.uuid4().hex[:10]}@example.com"
        async with httpx.AsyncClient(base_url=self.api_url, timeout=30) as anonymous:
            link = await request_link(anonymous, email, locale)
            response = await anonymous.post("/v1/auth/magic-link/verify", json={"token": link_token(link)})
        response.raise_for_status()
        body = response.json()
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        client = httpx.AsyncClient(base_url=self.api_url, timeout=60, headers=headers)
        client.headers["X-User-Id"] = body["user"]["id"]  # for the test's own bookkeeping
        return client

    async def aclose(self) -> None:
        everything = [*self.processes.values(), self.temporal.process]
        for process in everything:  # all at once: teardown needs no graceful drain
            process.thaw()
            process.signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        for process in everything:
            process.stop(timeout=3)
        await self.postgres.aclose()
        await self.redis.aclose()
        await self.db.dispose()


@contextlib.asynccontextmanager
async def chaos_stack(
    base: Settings, work: Path, emulator_url: str, **overrides: object
) -> AsyncIterator[Stack]:
    """A fresh database, a Temporal dev server and both proxies; processes are started by the
    scenarios (``start_api``, ``start_worker``). Everything is torn down at the end."""
    name = f"pulse_chaos_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    direct = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    await upgrade_async(direct)
    redis_host, redis_port = _host_port(base.redis_url, 6379)
    postgres = await TcpProxy("127.0.0.1", 5432).start()
    redis = await TcpProxy(redis_host, redis_port).start()
    temporal = TemporalServer(work)
    await temporal.start()
    redis_db = urlsplit(base.redis_url).path.strip("/") or "0"
    settings = base.model_copy(
        update={
            "database_url": f"postgresql+asyncpg://postgres@{postgres.address}/{name}",
            "redis_url": f"redis://{redis.address}/{redis_db}",
            "redis_prefix": f"{name}:",
            "temporal_address": temporal.address,
            "temporal_task_queue_prefix": f"{name}-",
            "http_port": free_port(),
            "var_dir": work / "var",
            "log_level": "INFO",
            **overrides,
        }
    )
    stack = Stack(work, settings, Database(direct), temporal, postgres, redis, emulator_url)
    try:
        yield stack
    finally:
        await stack.aclose()
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    location = urlsplit(url)
    return location.hostname or "127.0.0.1", location.port or default_port
