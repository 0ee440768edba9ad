"""An outage inside the OpenAI-compatible sub-application (PostgreSQL, Redis or Temporal down)
answers OpenAI-shaped 503 ``service_unavailable`` with Retry-After, never a 500."""

from __future__ import annotations

import httpx
from temporalio.service import RPCError, RPCStatusCode

from api.openai import create_openai_app


async def test_outages_are_openai_shaped_503_and_bugs_stay_500() -> None:
    app = create_openai_app()

    @app.get("/v1/temporal-down")
    async def temporal_down() -> None:
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    @app.get("/v1/postgres-down")
    async def postgres_down() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    @app.get("/v1/bug")
    async def bug() -> None:
        raise RPCError("bad argument", RPCStatusCode.INVALID_ARGUMENT, b"")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in ("/v1/temporal-down", "/v1/postgres-down"):
            answer = await client.get(path, headers={"Accept-Language": "en"})
            assert answer.status_code == 503, (path, answer.text)
            assert answer.headers["retry-after"] == "5"
            error = answer.json()["error"]
            assert error["code"] == "service_unavailable" and error["type"] == "server_error"
        buggy = await client.get("/v1/bug")
        assert buggy.status_code == 500 and buggy.json()["error"]["code"] == "internal_error"
