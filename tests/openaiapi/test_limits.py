"""Per-key limits and plan quota through the official SDK: quota → 429 insufficient_quota in the
owner's language, the monthly budget (exact under concurrency, kept across rotation), rpm, and
a client leaving mid-stream (billed for what it received, nothing left reserved)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import select

from core.db import Database
from core.models import Job
from tests.conftest import EmulatorControl
from tests.openaiapi.conftest import KeyUser, leave_only, reservation, sdk_for, tokens

ARABIC = re.compile(r"[\u0600-\u06FF]")
ASK = [{"role": "user", "content": "اكتب فقرة قصيرة عن عمّان."}]


async def test_plan_quota_exhausted_is_429_insufficient_quota_in_the_owners_language(
    key_user: Any, db: Database
) -> None:
    arabic: KeyUser = await key_user(locale="ar")
    english: KeyUser = await key_user(locale="en")
    for user in (arabic, english):
        await leave_only(db, user.me.user_id, left=10)
        with pytest.raises(openai.RateLimitError) as refused:
            await user.sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, stream=user is english)
        error = refused.value
        assert error.code == "insufficient_quota" and error.type == "insufficient_quota"
        assert error.response.headers["x-should-retry"] == "false"
        message = error.body["message"] if isinstance(error.body, dict) else ""
        assert bool(ARABIC.search(message)) is (user is arabic), message
        assert (await tokens(db, user.me.user_id)).reserved == 0


async def test_monthly_budget_is_exact_under_concurrency_and_survives_rotation(
    key_user: Any, db: Database, api_url: str
) -> None:
    # gpt-5-mini weighs 1: each call reserves its input estimate + 100 and settles far less.
    user: KeyUser = await key_user(monthly_budget=400)
    calls = [
        user.sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=100) for _ in range(6)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(done) + len(refused) == 6 and refused and done
    assert all(r.code == "budget_exceeded" for r in refused)
    usage = await user.usage()
    charged = sum(r.usage.model_extra["studio_tokens"] for r in done if r.usage and r.usage.model_extra)
    assert usage["studio_tokens_used"] == charged and usage["studio_tokens_held"] == 0, (usage, done)
    assert usage["requests"] == len(done) and usage["monthly_budget"] == 400
    assert 0 < charged <= 400 and usage["remaining"] == 400 - charged

    rotated = await user.me.client.post(f"/v1/auth/api-keys/{user.key_id}/rotate")
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["family_id"] == user.key_id and new["monthly_budget"] == 400 and new["key"] != user.key
    with pytest.raises(openai.AuthenticationError):
        await user.sdk.models.list()  # the old secret stops at once
    sdk = sdk_for(api_url, new["key"])
    try:
        after = (await user.me.client.get(f"/v1/auth/api-keys/{new['id']}/usage")).json()
        assert after["studio_tokens_used"] == charged and after["period_start"] == usage["period_start"]
        while True:  # spend the rest with the new key: the window is the same one
            try:
                await sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=64)
            except openai.RateLimitError as error:
                assert error.code == "budget_exceeded"
                break
        final = (await user.me.client.get(f"/v1/auth/api-keys/{new['id']}/usage")).json()
        assert final["studio_tokens_used"] <= 400 and final["requests"] > usage["requests"]
    finally:
        await sdk.close()
    assert (await tokens(db, user.me.user_id)).used == final["studio_tokens_used"]


async def test_rpm_limit(key_user: Any) -> None:
    user: KeyUser = await key_user(rpm_limit=2)
    for _ in range(2):
        await user.sdk.models.retrieve("gpt-5-mini")  # reads are not counted
        await user.sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=64)
    with pytest.raises(openai.RateLimitError) as limited:
        await user.sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=64)
    assert limited.value.code == "rate_limit_exceeded" and limited.value.type == "requests"
    assert 1 <= int(limited.value.response.headers["retry-after"]) <= 60


async def test_tpm_limit_counts_what_the_answers_used(key_user: Any) -> None:
    user: KeyUser = await key_user(tpm_limit=40, locale="en")
    first = await user.sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=64)
    assert first.usage is not None and first.usage.total_tokens > 26  # more than 40 minus the estimate
    with pytest.raises(openai.RateLimitError) as limited:
        await user.sdk.chat.completions.create(model="gpt-5-mini", messages=ASK, max_tokens=64)
    assert limited.value.code == "rate_limit_exceeded" and limited.value.type == "tokens"
    assert "40 tokens per minute" in limited.value.message


async def test_a_client_dropping_a_whole_completion_still_gets_the_turn_finished_and_billed_once(
    key_user: Any, db: Database, emulator: EmulatorControl, api_url: str
) -> None:
    """A non-streamed call whose client gives up mid-reply: the turn is not stopped (the whole
    reply is made and billed once, as usage would have said); nothing stays reserved."""
    user: KeyUser = await key_user()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.05, model="gpt-5-mini")
    body = {"model": "gpt-5-mini", "messages": ASK, "max_tokens": 400}
    headers = {"Authorization": f"Bearer {user.key}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=0.6) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.post("/openai/v1/chat/completions", json=body, headers=headers)
    async with db.reader() as session:
        turn_id = (await session.execute(select(Job.id).where(Job.user_id == user.me.user_id))).scalar_one()
    for _ in range(400):
        settled = await reservation(db, turn_id)
        if settled.status != "reserved":
            break
        await asyncio.sleep(0.05)
    assert settled.status == "settled" and settled.charged > 0
    async with db.reader() as session:
        job = (await session.execute(select(Job).where(Job.id == turn_id))).scalar_one()
    assert job.status == "succeeded" and job.cost_tokens == settled.charged  # whole, not stopped
    balance = await tokens(db, user.me.user_id)
    assert balance.reserved == 0 and balance.used == settled.charged
    calls = await emulator.settled()
    assert calls["openai"]["requests"] == 1 and calls["openai"].get("disconnects", 0) == 0, calls
    usage = await user.usage()
    assert usage["studio_tokens_used"] == settled.charged and usage["requests"] == 1


async def test_a_client_leaving_mid_stream_is_billed_for_what_it_received(
    key_user: Any, db: Database, emulator: EmulatorControl, api_url: str
) -> None:
    user: KeyUser = await key_user()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.05, model="gpt-5-mini")
    body = {"model": "gpt-5-mini", "messages": ASK, "max_tokens": 400, "stream": True}
    headers = {"Authorization": f"Bearer {user.key}"}
    received = 0
    turn_id = ""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as http:
        async with http.stream("POST", "/openai/v1/chat/completions", json=body, headers=headers) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    turn_id = turn_id or line.split('"id":"chatcmpl-', 1)[1].split('"', 1)[0]
                    received += '"content":"' in line and '"content":""' not in line
                if received >= 3:
                    break  # leave: closing the stream drops the connection
    for _ in range(200):
        settled = await reservation(db, turn_id)
        if settled.status != "reserved":
            break
        await asyncio.sleep(0.05)
    assert settled.status == "settled"
    assert 0 < settled.charged < settled.amount
    balance = await tokens(db, user.me.user_id)
    assert balance.reserved == 0 and balance.used == settled.charged
    calls = await emulator.settled()
    assert calls["openai"]["disconnects"] == 1, calls
    usage = await user.usage()
    assert usage["studio_tokens_used"] == settled.charged and usage["studio_tokens_held"] == 0


async def test_a_provider_retry_mid_reply_whole_answer_starts_over_stream_says_interrupted(
    key_user: Any, db: Database, emulator: EmulatorControl
) -> None:
    user: KeyUser = await key_user(locale="en")
    clean = await user.sdk.chat.completions.create(model="claude-haiku-4-5", messages=ASK, max_tokens=200)
    await emulator.fault(
        provider="anthropic", kind="stream_error", count=1, after_tokens=3, model="claude-haiku-4-5"
    )
    retried = await user.sdk.chat.completions.create(model="claude-haiku-4-5", messages=ASK, max_tokens=200)
    assert retried.choices[0].message.content == clean.choices[0].message.content  # not the broken attempt's
    assert (await reservation(db, retried.id.removeprefix("chatcmpl-"))).charged == (
        retried.usage.model_extra["studio_tokens"] if retried.usage and retried.usage.model_extra else -1
    )

    await emulator.fault(
        provider="anthropic", kind="stream_error", count=1, after_tokens=3, model="claude-haiku-4-5"
    )
    stream = await user.sdk.chat.completions.create(
        model="claude-haiku-4-5", messages=ASK, max_tokens=200, stream=True
    )
    with pytest.raises(openai.APIError) as interrupted:
        async for _chunk in stream:
            pass
    assert "interrupted" in interrupted.value.message
    for _ in range(200):
        if (await tokens(db, user.me.user_id)).reserved == 0:
            break
        await asyncio.sleep(0.05)
    assert (await tokens(db, user.me.user_id)).reserved == 0
