"""Payments fixtures: the HyperPay emulator served by uvicorn on a free port (inside a tiny app
of our own until emulator/app.py lands), a webhook receiver, and a client pointed at both."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from emulator import hyperpay as emulator
from providers.payments.hyperpay import Brand, HyperPayClient
from tests.conftest import free_port

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


@pytest_asyncio.fixture(scope="session")
async def emulator_base() -> AsyncIterator[str]:
    """The emulator's root URL (HyperPay lives under /hyperpay)."""
    app = FastAPI()
    app.include_router(emulator.router)
    async with serve(app) as url:
        yield url


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
