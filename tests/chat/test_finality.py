"""Every job reaches a final state, every stream ends, a refused request writes nothing
(issue 15, item 12)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, text

from core import ledger
from core.db import Database
from core.models import Conversation, Job
from core.settings import Settings
from tests.chat.helpers import read_events
from tests.chat.test_turns import ARABIC, leave_only, start, tokens_usage
from tests.conftest import EmulatorControl


async def rows_of(db: Database, user_id: str) -> tuple[int, int]:
    async with db.reader() as session:
        conversations = await session.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)
        )
        jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.user_id == user_id))
    return int(conversations or 0), int(jobs or 0)


async def test_a_turn_refused_for_quota_writes_nothing(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    await leave_only(db, me.user_id, tokens=10)
    body = {"model": "gpt-5-mini", "message": "مرحبا"}
    refused = await me.client.post("/v1/chat/turns", json=body)
    assert refused.status_code == 402, refused.text
    assert refused.json()["code"] == "quota_exceeded" and "tokens" in refused.json()["message"]
    arabic = await me.client.post("/v1/chat/turns", json=body, params={"lang": "ar"})
    assert arabic.status_code == 402 and ARABIC.search(arabic.json()["message"])
    assert await rows_of(db, me.user_id) == (0, 0), "no empty, untitled conversation, no job"
    assert (await me.client.get("/v1/chat/conversations")).json() == []
    assert (await emulator.settled())["openai"]["requests"] == 0


async def test_quota_held_by_running_turns_says_so_and_how_much(sign_in: Any, db: Database) -> None:
    me = await sign_in(locale="en")
    await leave_only(db, me.user_id, tokens=3000)
    async with db.session() as session:  # a concurrent turn holds almost all of it
        await ledger.reserve(
            session, user_id=me.user_id, unit="tokens", amount=2990, key=f"held-{me.user_id}"
        )
    refused = await me.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hi"})
    assert refused.status_code == 402
    message = refused.json()["message"]
    assert "held" in message and "2,990" in message, message
    arabic = await me.client.post(
        "/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hi"}, params={"lang": "ar"}
    )
    assert "محجوز" in arabic.json()["message"], arabic.json()
    async with db.session() as session:
        await ledger.release(session, key=f"held-{me.user_id}")


async def test_resume_after_the_stream_expired_ends_with_the_stored_outcome(
    sign_in: Any, settings: Settings, db: Database
) -> None:
    from redis.asyncio import Redis

    me = await sign_in()
    turn = await start(me.client)
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "done"
    redis = Redis.from_url(settings.redis_url)
    await redis.delete(f"{settings.redis_prefix}stream:{turn['turn_id']}")  # its TTL ran out
    await redis.aclose()
    resumed = await asyncio.wait_for(
        read_events(me.client, turn["events_url"], last_event_id=stream.of("delta")[0].id), 15
    )
    assert resumed.last.type == "done" and resumed.last.data["usage"]["studio_tokens"] > 0
    # the summary carries the whole stored reply and its token counts: the deltas are gone
    streamed = "".join(str(event.data["text"]) for event in stream.of("delta"))
    assert streamed and resumed.last.data["text"] == streamed
    assert resumed.last.data["usage"]["output_tokens"] == stream.last.data["usage"]["output_tokens"]


async def test_stop_during_the_reserve_step_ends_the_turn_stopped_and_unbilled(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await leave_only(db, me.user_id, tokens=15000)
    before = await tokens_usage(db, me.user_id)
    async with db.session() as blocker:  # holds the ledger account lock: reserve waits on it
        await blocker.execute(
            text("SELECT 1 FROM ledger_accounts WHERE user_id = :u FOR UPDATE"), {"u": me.user_id}
        )
        turn = await start(me.client)
        await asyncio.sleep(0.5)  # the workflow is inside its reserve step now
        assert (await me.client.post(f"/v1/chat/turns/{turn['turn_id']}/cancel")).status_code == 202
        # The reserve runs inside the first workflow task: the cancel reaches the workflow's
        # code when the SDK heartbeats that task (at 80 % of its 10 s timeout), reserve still waiting.
        await asyncio.sleep(9.0)
    stream = await asyncio.wait_for(read_events(me.client, turn["events_url"]), 20)
    assert stream.last.type == "done" and stream.last.data["stopped"] is True, stream.events
    async with db.reader() as session:
        job = await session.get(Job, turn["turn_id"])
    assert job is not None and job.status == "cancelled"
    after = await tokens_usage(db, me.user_id)
    assert after.reserved == 0 and after.remaining == before.remaining, "nothing billed, nothing held"
    assert (await emulator.settled())["openai"]["requests"] == 0
