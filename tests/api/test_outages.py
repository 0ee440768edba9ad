"""An outage of a dependency answers 503 service_unavailable with Retry-After, never a 500, and
the error stays inside the app (uvicorn never sees it, so keep-alive connections stay open)."""

from __future__ import annotations

from typing import Any

import httpx

from core.outages import ServiceUnavailable, is_outage
from core.settings import Settings
from tests.conftest import serve_app


async def test_database_refused_answers_503_with_retry_after_in_the_callers_language(
    settings: Settings, sign_in: Any
) -> None:
    me = await sign_in()
    broken = settings.model_copy(update={"database_url": "postgresql+asyncpg://postgres@127.0.0.1:1/none"})
    async with serve_app(broken, run_worker=False) as url:
        headers = {"Authorization": f"Bearer {me.token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            english = await client.get("/v1/chat/conversations", params={"lang": "en"})
            arabic = await client.get("/v1/chat/conversations", params={"lang": "ar"})
            again = await client.get("/v1/chat/conversations", params={"lang": "en"})
    assert english.status_code == 503, english.text
    assert english.json()["code"] == "service_unavailable"
    assert english.json()["message"] == ServiceUnavailable.message
    assert int(english.headers["Retry-After"]) > 0
    assert arabic.status_code == 503 and arabic.json()["message"] != ServiceUnavailable.message
    assert english.headers.get("connection") != "close" and again.status_code == 503


def test_outages_are_told_from_bugs() -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from sqlalchemy.exc import IntegrityError, OperationalError

    assert is_outage(ConnectionRefusedError())
    assert is_outage(RedisConnectionError("down"))
    assert is_outage(OperationalError("SELECT 1", {}, Exception("gone")))
    wrapped = RuntimeError("while storing")
    wrapped.__cause__ = TimeoutError()
    assert is_outage(wrapped)
    assert not is_outage(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_outage(ValueError("a bug"))
