"""``GET /v1/jobs/{id}/events`` under the fault rules chat's relay follows (api/relay.py, shared):
Redis or PostgreSQL away mid-stream, the stream stays open (``: waiting for the service``) and
delivers the rest once it is back; Redis away when the request arrives, the stream opens and
waits; PostgreSQL away then, 503 ``service_unavailable`` + Retry-After, as chat's events route
answers; events of an attempt older than the newest ``restart`` are dropped, never the outcome.

The app under test reaches Redis and PostgreSQL through TcpProxy (tests/chaos/proxy.py), which
cuts them off for real; the events themselves are published straight to Redis, as a worker
would while the API's own connections are down."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from api.jobs.sse import relay
from core import jobs
from core.db import Database
from core.models.base import new_id
from core.settings import Settings
from providers.streams import MemoryStreamBus, StreamBus
from tests.chaos.proxy import TcpProxy
from tests.conftest import serve_app

WAITING = ": waiting for the service"
READ_TIMEOUT_S = 30  # one frame (a keepalive comes every 5 s): generous for a loaded machine


@dataclass
class Proxied:
    url: str
    redis: TcpProxy
    postgres: TcpProxy


@contextlib.asynccontextmanager
async def proxied_app(settings: Settings) -> AsyncIterator[Proxied]:
    """The real app (no worker) with its Redis and PostgreSQL behind proxies the test can cut."""
    redis_at, pg_at = urlsplit(settings.redis_url), urlsplit(settings.database_url)
    redis = await TcpProxy(redis_at.hostname or "127.0.0.1", redis_at.port or 6379).start()
    postgres = await TcpProxy(pg_at.hostname or "127.0.0.1", pg_at.port or 5432).start()
    through = settings.model_copy(
        update={
            "redis_url": redis_at._replace(netloc=redis.address).geturl(),
            "database_url": pg_at._replace(netloc=f"{pg_at.username}@{postgres.address}").geturl(),
        }
    )
    try:
        async with serve_app(through, run_worker=False) as url:
            yield Proxied(url, redis, postgres)
    finally:
        await redis.aclose()
        await postgres.aclose()


class Frames:
    """An open SSE response read one frame at a time: ``(event, data)``, or ``(":", comment)``."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self) -> tuple[str, Any]:
        fields: dict[str, str] = {}
        async with asyncio.timeout(READ_TIMEOUT_S):
            async for line in self.lines:
                if line.startswith(":"):
                    return ":", line
                if line == "":
                    if "event" in fields:
                        return fields["event"], json.loads(fields.get("data", "{}"))
                    fields = {}
                    continue
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended before its final event")

    async def event(self) -> tuple[str, Any]:
        """The next event, past comments (keepalives)."""
        while (frame := await self.next())[0] == ":":
            pass
        return frame

    async def until_comment(self, comment: str) -> list[tuple[str, Any]]:
        """Read up to ``comment``; the events that came before it."""
        seen = []
        while (frame := await self.next()) != (":", comment):
            if frame[0] != ":":
                seen.append(frame)
        return seen


async def new_job(db: Database, user_id: str) -> str:
    job_id = new_id()
    async with db.session() as session:
        await jobs.ensure_job(
            session, job_id=job_id, user_id=user_id, kind="image", workflow_id=f"image-{job_id}"
        )
    return job_id


@contextlib.asynccontextmanager
async def job_events(app: Proxied, token: str, job_id: str) -> AsyncIterator[Frames]:
    """``GET /v1/jobs/{id}/events`` opened (200) on the proxied app."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=app.url, headers=headers, timeout=60) as client:
        async with client.stream("GET", f"/v1/jobs/{job_id}/events") as response:
            assert response.status_code == 200, await response.aread()
            yield Frames(response)


async def test_redis_away_mid_stream_the_stream_waits_and_delivers_the_rest(
    settings: Settings, sign_in: Any, db: Database, worker: Any
) -> None:
    me = await sign_in(locale="en")
    job_id = await new_job(db, me.user_id)
    bus: StreamBus = worker.bus  # the worker's own connection: Redis itself stays up
    await bus.publish(job_id, "step", {"step": "started", "attempt": 1})
    async with proxied_app(settings) as app:
        async with job_events(app, me.token, job_id) as frames:
            assert await frames.event() == ("step", {"step": "started", "attempt": 1})
            await app.redis.refuse()
            await bus.publish(job_id, "step", {"step": "render", "attempt": 1})  # while the API can't read
            assert await frames.until_comment(WAITING) == []
            await app.redis.heal()
            await bus.publish(job_id, "done", {"status": "succeeded", "usage": {"images": 1}, "attempt": 1})
            assert await frames.event() == ("step", {"step": "render", "attempt": 1})
            kind, data = await frames.event()
    assert (kind, data["status"]) == ("done", "succeeded")


async def test_postgres_away_mid_stream_the_stream_waits_and_delivers_the_rest(
    settings: Settings, sign_in: Any, db: Database, worker: Any
) -> None:
    """The relay reads the job's row after a read with nothing new (a keepalive): PostgreSQL
    refused then, the stream waits instead of dying, and ends with the job's ``done``."""
    me = await sign_in(locale="en")
    job_id = await new_job(db, me.user_id)
    bus: StreamBus = worker.bus
    await bus.publish(job_id, "step", {"step": "started", "attempt": 1})
    async with proxied_app(settings) as app:
        async with job_events(app, me.token, job_id) as frames:
            assert (await frames.event())[0] == "step"
            await app.postgres.refuse()
            assert await frames.until_comment(WAITING) == []
            await app.postgres.heal()
            await bus.publish(job_id, "done", {"status": "succeeded", "usage": {"images": 1}, "attempt": 1})
            assert (await frames.event())[0] == "done"


async def test_redis_away_when_the_request_arrives_the_stream_opens_and_waits(
    settings: Settings, sign_in: Any, db: Database, worker: Any
) -> None:
    """As chat's events route: the job is looked up in PostgreSQL (up), the stream opens and
    waits for Redis rather than answering 500 or closing at once."""
    me = await sign_in(locale="en")
    job_id = await new_job(db, me.user_id)
    async with proxied_app(settings) as app:
        await app.redis.refuse()
        async with job_events(app, me.token, job_id) as frames:
            await frames.until_comment(WAITING)
            await app.redis.heal()
            await worker.bus.publish(
                job_id, "error", {"status": "failed", "code": "provider_error", "attempt": 1}
            )
            kind, data = await frames.event()
    assert (kind, data["code"]) == ("error", "provider_error")


async def test_postgres_away_when_the_request_arrives_answers_503_like_chat(
    settings: Settings, sign_in: Any, db: Database
) -> None:
    me = await sign_in(locale="en")
    job_id = await new_job(db, me.user_id)
    async with proxied_app(settings) as app:
        await app.postgres.refuse()
        headers = {"Authorization": f"Bearer {me.token}", "Accept-Language": "en"}
        async with httpx.AsyncClient(base_url=app.url, headers=headers, timeout=30) as client:
            answers = [
                await client.get(f"/v1/jobs/{job_id}/events"),
                await client.get(f"/v1/chat/turns/{new_id()}/events"),
            ]
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "service_unavailable" and int(answer.headers["Retry-After"]) > 0


async def test_events_of_an_attempt_older_than_the_newest_restart_are_dropped_never_the_outcome(
    db: Database,
) -> None:
    """Job events carry their activity's attempt, as chat's do; the final ``done`` comes from
    the finishing activity (its own attempt 1) and ends the stream whatever attempt restarted."""
    bus = MemoryStreamBus()
    key = new_id()
    await bus.publish(key, "progress", {"step": "render", "done": 1, "total": 4, "attempt": 1})
    await bus.publish(key, "restart", {"attempt": 2})
    await bus.publish(key, "progress", {"step": "render", "done": 2, "total": 4, "attempt": 1})  # stale
    await bus.publish(key, "progress", {"step": "render", "done": 1, "total": 4, "attempt": 2})
    await bus.publish(key, "done", {"status": "succeeded", "attempt": 1})
    sent = [frame.decode() async for frame in relay(bus, db, key, None, "en")]
    progress = [f for f in sent if "event: progress" in f]
    assert len(progress) == 2 and '"done":2' not in "".join(progress)
    assert "event: done" in sent[-1]
