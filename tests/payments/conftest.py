"""Payments fixtures: the HyperPay emulator served by uvicorn on a free port (inside a tiny app
of our own until emulator/app.py lands), a webhook receiver, and a client pointed at both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from pydantic import SecretStr
from temporalio.client import Client

import worker as worker_module
from core.settings import Settings
from providers.payments.hyperpay import Brand, HyperPayClient
from tests.conftest import SignedIn, free_port, serve_app
from workflows import BACKGROUND

WEBHOOK_SECRET = "8f7e6d5c4b3a29181706f5e4d3c2b1a0" * 2
ENTITY = "8ac7a4c9test00000000000000000vm"
ENTITY_MADA = "8ac7a4c9test00000000000000000md"


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
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


@pytest.fixture(scope="session")
def emulator_base(emulator_url: str) -> str:
    """The emulator's root URL (emulator/app.py; HyperPay lives under /hyperpay)."""
    return emulator_url


class Receiver:
    """Collects webhook deliveries; answers ``fail_next`` times with 500 first."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> PlainTextResponse:
            body = await request.body()
            self.received.append({"headers": dict(request.headers), "body": body})
            if self.fail_next > 0:
                self.fail_next -= 1
                return PlainTextResponse("down", status_code=500)
            return PlainTextResponse("ok")

        return app


@pytest_asyncio.fixture(scope="session")
async def receiver_server() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    async with serve(receiver.app()) as url:
        yield receiver, f"{url}/hook"


@pytest_asyncio.fixture
async def control(emulator_base: str) -> AsyncIterator[httpx.AsyncClient]:
    """The emulator's control API, reset before each test."""
    async with httpx.AsyncClient(base_url=f"{emulator_base}/_emulator/hyperpay", timeout=10) as http:
        (await http.post("/reset")).raise_for_status()
        yield http


@pytest_asyncio.fixture
async def hyperpay(emulator_base: str, control: httpx.AsyncClient) -> AsyncIterator[HyperPayClient]:
    client = HyperPayClient(
        f"{emulator_base}/hyperpay", "test-token", {Brand.card: ENTITY, Brand.mada: ENTITY_MADA}
    )
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def receiver(
    receiver_server: tuple[Receiver, str], control: httpx.AsyncClient
) -> AsyncIterator[Receiver]:
    receiver, url = receiver_server
    receiver.received.clear()
    receiver.fail_next = 0
    config = {"webhook_url": url, "webhook_secret": WEBHOOK_SECRET, "retry_delays": [0.05, 0.05, 0.1]}
    (await control.post("/config", json=config)).raise_for_status()
    yield receiver


async def pay(emulator_base: str, checkout_id: str, card: str, back: str = "") -> httpx.Response:
    """Play the shopper: submit a test card on the hosted form (no redirect following)."""
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            f"{emulator_base}/hyperpay/v1/checkouts/{checkout_id}/pay",
            data={"card.number": card, "card.holder": "Test Shopper", "shopperResultUrl": back},
        )


# --- the API wired to the emulator ---------------------------------------------------------

API_WEBHOOK_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90" * 2


@pytest.fixture(scope="session")
def pay_settings(settings: Settings, emulator_base: str, run_id: str) -> Settings:
    """Settings for the payments API and worker: HyperPay = the emulator, short timings, and
    task queues of their own (the session's other workers point elsewhere)."""
    return settings.model_copy(
        update={
            "hyperpay_base_url": f"{emulator_base}/hyperpay",
            "hyperpay_entity_id": ENTITY,
            "hyperpay_entity_id_mada": ENTITY_MADA,
            "hyperpay_webhook_secret": SecretStr(API_WEBHOOK_SECRET),
            "temporal_task_queue_prefix": f"t{run_id}-pay-",
            "payments_checkout_timeout_s": 30.0,
            "payments_poll_initial_s": 0.3,
            "payments_retry_initial_s": 0.2,
            "payments_return_wait_s": 6.0,
            "payments_renewal_period_s": 3600.0,
            "payments_dunning_days": [1.0, 3.0, 7.0],
        }
    )


@pytest_asyncio.fixture(scope="session")
async def pay_worker(pay_settings: Settings, client: Client) -> AsyncIterator[worker_module.WorkerDeps]:
    deps = worker_module.build_deps(pay_settings)
    workers = worker_module.build_workers(client, deps, [BACKGROUND])
    tasks = [asyncio.create_task(w.run()) for w in workers]
    yield deps
    await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
    for task in tasks:
        task.cancel()
    await deps.aclose()


@pytest_asyncio.fixture(scope="session")
async def pay_api(pay_settings: Settings, pay_worker: worker_module.WorkerDeps) -> AsyncIterator[str]:
    async with serve_app(pay_settings, run_worker=False) as url:
        yield url


@dataclass
class Shopper:
    user_id: str
    email: str
    api: httpx.AsyncClient  # bearer-authenticated against the payments API


@pytest_asyncio.fixture
async def wired(control: httpx.AsyncClient, pay_api: str) -> httpx.AsyncClient:
    """The emulator posts its webhooks to the payments API; returns the control client."""
    config = {
        "webhook_url": f"{pay_api}/v1/payments/webhook/hyperpay",
        "webhook_secret": API_WEBHOOK_SECRET,
        "retry_delays": [0.1, 0.2, 0.5],
        "pending_seconds": 1.0,
        "pending_reads": 100,
    }
    (await control.post("/config", json=config)).raise_for_status()
    return control


@pytest_asyncio.fixture
async def shopper(
    sign_in: Callable[..., Awaitable[SignedIn]], pay_api: str, wired: httpx.AsyncClient
) -> AsyncIterator[Callable[..., Awaitable[Shopper]]]:
    clients: list[httpx.AsyncClient] = []

    async def _shopper(locale: str = "ar") -> Shopper:
        signed = await sign_in(locale=locale)
        api = httpx.AsyncClient(
            base_url=pay_api, timeout=30, headers={"Authorization": f"Bearer {signed.token}"}
        )
        clients.append(api)
        return Shopper(signed.user_id, signed.email, api)

    yield _shopper
    for api in clients:
        await api.aclose()
