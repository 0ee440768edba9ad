"""``/openai/v1/chat/completions`` reads a turn's events under the fault rules chat's and the
jobs' relays follow (api/relay.py): through a Redis cut mid-turn the answer waits and is whole
once Redis is back; events of an attempt older than the newest ``restart`` are not in the
answer; a turn final in the database whose final event is not on the bus ends with its stored
outcome instead of waiting forever.

The app under test reaches Redis and PostgreSQL through TcpProxy (tests/api/test_job_events.py's
``proxied_app``); the session's worker runs the turns with its own connections, and the stale
events are published straight to Redis as a frozen old attempt would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import select
from temporalio.client import Client

from core import apiturns
from core.db import Database
from core.models import ApiTurn
from core.models.job import Job
from core.settings import Settings
from providers.streams import StreamBus, StreamEvent
from tests.api.test_job_events import WAITING, proxied_app
from tests.conftest import EmulatorControl, serve_app
from tests.openaiapi.conftest import KeyUser, turn_id_of
from tests.storage.test_job_sweeper import sweeper

MODEL = "claude-haiku-4-5"  # no moderation call beside it: the emulator's faults are the turn's
ASK: Any = [{"role": "user", "content": "Write a short paragraph about Amman."}]
SLOW_TOKEN_S = 0.3  # 20 tokens: the turn streams for ~6 s, time for the test to act mid-turn


def patient_sdk(url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=f"{url}/openai/v1", max_retries=0, timeout=90)


async def turn_of(db: Database, user_id: str) -> str:
    """The id of the user's turn, once its row exists (each test's user makes one)."""
    async with asyncio.timeout(30):
        while True:
            async with db.reader() as session:
                found = await session.scalar(select(Job.id).where(Job.user_id == user_id, Job.kind == "chat"))
            if found is not None:
                return found
            await asyncio.sleep(0.05)


async def wait_for(bus: StreamBus, turn_id: str, kind: str, **match: Any) -> list[StreamEvent]:
    """The turn's events up to the first of ``kind`` whose data has ``match``, read from Redis."""
    seen: list[StreamEvent] = []
    cursor = None
    async with asyncio.timeout(60):
        while True:
            for event in await bus.read(turn_id, cursor, block_ms=1000):
                cursor = event.id
                seen.append(event)
                if event.type == kind and all(event.data.get(k) == v for k, v in match.items()):
                    return seen


async def reply_on_bus(bus: StreamBus, turn_id: str) -> str:
    """The text of the turn's newest attempt, as the worker published it."""
    events = await bus.read(turn_id, None, block_ms=0)
    newest = max(int(e.data.get("attempt", 1)) for e in events if e.type == "delta")
    return "".join(str(e.data["text"]) for e in events if e.type == "delta" and e.data["attempt"] == newest)


async def openai_frames(response: httpx.Response) -> AsyncIterator[Any]:
    """A streamed completion's frames: each chunk (a dict), ``"[DONE]"``, or a comment line."""
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield line
        elif line.startswith("data: "):
            payload = line.removeprefix("data: ")
            yield payload if payload == "[DONE]" else json.loads(payload)


def content_of(frame: Any) -> str:
    if not isinstance(frame, dict) or not frame.get("choices"):
        return ""
    return str(frame["choices"][0]["delta"].get("content") or "")


async def test_a_whole_completion_waits_through_a_redis_cut_mid_turn(
    settings: Settings, key_user: Any, db: Database, worker: Any, emulator: EmulatorControl
) -> None:
    user: KeyUser = await key_user(locale="en")
    await emulator.fault(provider="anthropic", kind="slow", count=1, delay_s=SLOW_TOKEN_S, model=MODEL)
    async with proxied_app(settings) as app:
        sdk = patient_sdk(app.url, user.key)
        answer = asyncio.create_task(sdk.chat.completions.create(model=MODEL, messages=ASK, max_tokens=200))
        turn_id = await turn_of(db, user.me.user_id)
        await wait_for(worker.bus, turn_id, "delta")  # its text has started
        await app.redis.refuse()
        sent = await worker.bus.read(turn_id, None, block_ms=0)
        assert not any(e.terminal for e in sent), "the cut came mid-turn"
        await wait_for(worker.bus, turn_id, "done")  # the turn ended while the API could not read
        assert not answer.done(), "the answer waits for Redis"
        await app.redis.heal()
        whole = await answer
        await sdk.close()
    assert whole.choices[0].message.content == await reply_on_bus(worker.bus, turn_id)
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage is not None and whole.usage.completion_tokens > 0


async def test_a_streamed_completion_waits_through_a_redis_cut_mid_turn(
    settings: Settings, key_user: Any, db: Database, worker: Any, emulator: EmulatorControl
) -> None:
    user: KeyUser = await key_user(locale="en")
    await emulator.fault(provider="anthropic", kind="slow", count=1, delay_s=SLOW_TOKEN_S, model=MODEL)
    ask = {"model": MODEL, "messages": ASK, "max_tokens": 200, "stream": True}
    async with proxied_app(settings) as app:
        headers = {"Authorization": f"Bearer {user.key}"}
        async with httpx.AsyncClient(base_url=app.url, headers=headers, timeout=60) as http:
            async with http.stream("POST", "/openai/v1/chat/completions", json=ask) as response:
                assert response.status_code == 200, await response.aread()
                frames = openai_frames(response)
                async with asyncio.timeout(60):
                    text = ""
                    while not text:  # the role chunk, then the first text
                        text = content_of(frame := await anext(frames))
                    turn_id = turn_id_of(frame["id"])
                    await app.redis.refuse()
                    sent = await worker.bus.read(turn_id, None, block_ms=0)
                    assert not any(e.terminal for e in sent), "the cut came mid-turn"
                    while (frame := await anext(frames)) != WAITING:  # what the API had read
                        text += content_of(frame)
                    await wait_for(worker.bus, turn_id, "done")
                    await app.redis.heal()
                    rest = [frame async for frame in frames]
    assert rest[-1] == "[DONE]"
    finish = [f["choices"][0]["finish_reason"] for f in rest if isinstance(f, dict) and f["choices"]]
    assert finish[-1] == "stop"
    assert text + "".join(content_of(f) for f in rest) == await reply_on_bus(worker.bus, turn_id)


@pytest.mark.parametrize("stream", [False, True])
async def test_deltas_of_an_attempt_older_than_the_newest_restart_are_not_in_the_answer(
    key_user: Any, db: Database, worker: Any, emulator: EmulatorControl, stream: bool
) -> None:
    """The first attempt fails (a whole answer: after some text; a stream: before any, else the
    stream ends interrupted by design), the retry announces ``restart``, and the first attempt,
    replaced but not dead, publishes one more delta."""
    user: KeyUser = await key_user(locale="en")
    await emulator.fault(
        provider="anthropic", kind="stream_error", count=1, after_tokens=0 if stream else 3, model=MODEL
    )
    await emulator.fault(provider="anthropic", kind="slow", count=1, delay_s=SLOW_TOKEN_S, model=MODEL)

    async def answer() -> str:
        if not stream:
            whole = await user.sdk.chat.completions.create(model=MODEL, messages=ASK, max_tokens=200)
            return whole.choices[0].message.content or ""
        chunks = await user.sdk.chat.completions.create(
            model=MODEL, messages=ASK, max_tokens=200, stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])

    text = asyncio.create_task(answer())
    turn_id = await turn_of(db, user.me.user_id)
    await wait_for(worker.bus, turn_id, "delta", attempt=2)  # after the restart, the retry's text
    await worker.bus.publish(turn_id, "delta", {"text": " STALE", "attempt": 1})
    reply = await text
    assert "STALE" not in reply
    assert reply == await reply_on_bus(worker.bus, turn_id)


async def test_a_turn_final_without_its_final_event_on_the_bus_ends_with_its_stored_outcome(
    settings: Settings, key_user: Any, db: Database, emulator: EmulatorControl
) -> None:
    """The API's bus never gets the turn's events (its stream is under another prefix: as after
    a Redis that came back without it); the turn fails in the database; the answer is that
    stored failure, not a wait without end."""
    user: KeyUser = await key_user(locale="en")
    await emulator.fault(provider="anthropic", kind="http_400", count=1, model=MODEL)
    elsewhere = settings.model_copy(update={"redis_prefix": f"{settings.redis_prefix}elsewhere:"})
    async with serve_app(elsewhere, run_worker=False) as url:
        sdk = patient_sdk(url, user.key)
        with pytest.raises(openai.APIStatusError) as failed:
            async with asyncio.timeout(40):  # today's wait without end
                await sdk.chat.completions.create(model=MODEL, messages=ASK, max_tokens=200)
        await sdk.close()
    async with db.reader() as session:
        job = await session.get(Job, await turn_of(db, user.me.user_id))
    assert job is not None and job.status == "failed" and job.error_code == "provider_error"
    assert failed.value.status_code == 502 and failed.value.code == "provider_error"
    assert job.error_message and failed.value.message.endswith(job.error_message)


async def stored_reply_of(db: Database, user_id: str) -> tuple[str, int]:
    """The user's turn's stored reply and its output tokens, once the turn has succeeded."""
    turn_id = await turn_of(db, user_id)
    async with asyncio.timeout(60):
        while True:
            async with db.reader() as session:
                job = await session.get(Job, turn_id)
                reply = await apiturns.stored_api_reply(session, turn_id)
            if job is not None and job.status == "succeeded" and reply is not None:
                return reply.text, reply.output_tokens
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_a_succeeded_turn_whose_events_are_all_lost_answers_its_stored_reply(
    settings: Settings, key_user: Any, db: Database, stream: bool
) -> None:
    """The API's bus never gets the turn's events (as after a Redis that came back without
    them); the turn succeeds in the database; the answer is the stored reply, whole, with its
    token counts (it used to be an empty message)."""
    user: KeyUser = await key_user(locale="en")
    elsewhere = settings.model_copy(update={"redis_prefix": f"{settings.redis_prefix}elsewhere:"})
    async with serve_app(elsewhere, run_worker=False) as url:
        sdk = patient_sdk(url, user.key)
        async with asyncio.timeout(60):
            if stream:
                usage_too: Any = {"include_usage": True}
                chunks = await sdk.chat.completions.create(
                    model=MODEL, messages=ASK, max_tokens=200, stream=True, stream_options=usage_too
                )
                parts, usage = [], None
                async for chunk in chunks:
                    parts.extend(choice.delta.content or "" for choice in chunk.choices)
                    usage = chunk.usage or usage
                text = "".join(parts)
            else:
                answer = await sdk.chat.completions.create(model=MODEL, messages=ASK, max_tokens=200)
                text, usage = answer.choices[0].message.content or "", answer.usage
        await sdk.close()
    stored, output_tokens = await stored_reply_of(db, user.me.user_id)
    assert stored and text == stored
    assert usage is not None and usage.completion_tokens == output_tokens > 0


async def test_the_job_sweeper_forgets_api_reply_texts_after_an_hour(
    settings: Settings, key_user: Any, db: Database, client: Client, worker: Any
) -> None:
    """The text is kept only for a lost stream's answer: a sweep an hour after the turn forgets
    it (the usage stays); a younger turn's text is kept."""
    user: KeyUser = await key_user(locale="en")
    async with serve_app(settings, run_worker=False) as url:
        sdk = patient_sdk(url, user.key)
        for _ in range(2):
            await sdk.chat.completions.create(model=MODEL, messages=ASK, max_tokens=50)
        await sdk.close()
    async with db.session() as session:
        old, young = (await session.scalars(select(ApiTurn).where(ApiTurn.user_id == user.me.user_id))).all()
        assert old.reply and young.reply
        old.created_at -= apiturns.REPLY_KEPT + timedelta(minutes=1)
    counts = await sweeper(settings, db, worker, client).sweep_once()
    assert counts.forgotten >= 1
    async with db.reader() as session:
        forgotten, kept = (await session.get(ApiTurn, old.id)), (await session.get(ApiTurn, young.id))
    assert forgotten is not None and forgotten.reply is None and forgotten.output_tokens > 0
    assert kept is not None and kept.reply == young.reply
