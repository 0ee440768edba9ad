"""Rate limits (memory and Redis), security headers, and the dev mailbox's visibility."""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis.asyncio as redis

from core.settings import Env, Settings
from tests.conftest import link_token, request_link, serve_app
from worker import WorkerDeps


def new_email() -> str:
    return f"limited-{uuid.uuid4().hex[:10]}@example.com"


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= 600
    assert str(retry_after) in response.json()["message"]


async def test_magic_link_limits_per_email_and_per_ip(settings: Settings) -> None:
    tight = settings.model_copy(
        update={"rate_limit_magic_link_email": "2/10 minutes", "rate_limit_magic_link_ip": "4/10 minutes"}
    )
    async with serve_app(tight) as url, httpx.AsyncClient(base_url=url, params={"lang": "en"}) as http:
        email = new_email()
        for _ in range(2):
            assert (await http.post("/v1/auth/magic-link", json={"email": email})).status_code == 202
        assert_limited(await http.post("/v1/auth/magic-link", json={"email": email.upper()}))
        # the same IP, other addresses: 3 requests counted so far against the per-IP limit of 4
        assert (await http.post("/v1/auth/magic-link", json={"email": new_email()})).status_code == 202
        assert_limited(await http.post("/v1/auth/magic-link", json={"email": new_email()}))
        # another client (behind our trusted proxy) still gets through
        other = await http.post(
            "/v1/auth/magic-link", json={"email": new_email()}, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert other.status_code == 202


async def test_verify_attempts_per_ip(settings: Settings) -> None:
    tight = settings.model_copy(update={"rate_limit_verify_ip": "3/10 minutes"})
    async with serve_app(tight) as url, httpx.AsyncClient(base_url=url) as http:
        for _ in range(3):
            response = await http.post("/v1/auth/magic-link/verify", json={"token": uuid.uuid4().hex})
            assert response.status_code == 400
        assert_limited(await http.post("/v1/auth/magic-link/verify", json={"token": uuid.uuid4().hex}))
        assert_limited(await http.get("/auth/verify", params={"token": uuid.uuid4().hex}))


async def test_api_calls_per_user_with_redis(
    settings: Settings, worker: WorkerDeps, redis_flush_prefix: list[str]
) -> None:
    prefix = f"pulse-test-{uuid.uuid4().hex[:8]}:"
    redis_flush_prefix.append(prefix)
    tight = settings.model_copy(
        update={
            "rate_limit_api_user": "3/minute",
            "redis_url": "redis://127.0.0.1:6379/0",
            "redis_prefix": prefix,
        }
    )
    async with serve_app(tight) as url, httpx.AsyncClient(base_url=url) as http:
        token = link_token(await request_link(http, new_email()))
        access = (await http.post("/v1/auth/magic-link/verify", json={"token": token})).json()["access_token"]
        headers = {"Authorization": f"Bearer {access}"}
        for _ in range(3):
            assert (await http.get("/v1/auth/me", headers=headers)).status_code == 200
        assert_limited(await http.get("/v1/auth/me", headers=headers))
    client = redis.from_url("redis://127.0.0.1:6379/0")
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    await client.aclose()
    assert keys, "the limiter kept its windows in Redis under the configured prefix"


async def test_security_headers(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/auth/magic-link", json={"email": new_email()})
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # plain http in dev and test


async def test_prod_sends_hsts_and_hides_the_mailbox(settings: Settings) -> None:
    prod = settings.model_copy(update={"env": Env.prod})
    async with serve_app(prod, run_worker=False) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.get("/dev/mailbox.json")
        assert response.status_code == 404
        assert (await http.get("/dev/mailbox")).status_code == 404
        assert response.headers["strict-transport-security"].startswith("max-age=")


def test_cookie_is_secure_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import load_settings
    from tests.conftest import make_settings

    assert make_settings().cookie_secure is False
    monkeypatch.setenv("PULSE_ENV", "prod")
    monkeypatch.setenv("PULSE_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("PULSE_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    for provider in ("OPENAI", "ANTHROPIC", "GOOGLE"):
        monkeypatch.setenv(f"PULSE_{provider}_ENABLED", "false")
    from tests.core.test_settings import set_live_payments

    set_live_payments(monkeypatch)
    assert load_settings().cookie_secure is True
    monkeypatch.setenv("PULSE_COOKIE_SECURE", "false")  # e.g. prod behind plain-http test rigs
    assert load_settings().cookie_secure is False
