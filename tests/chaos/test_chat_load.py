"""Chat under load and faults, in the production shape (the package's stack, tests/chaos/stack.py):
50 turns at once, started again as each ends, with 429/500/503, mid-stream errors and
truncated replies injected throughout; and 30 turns at once on a Free balance. After each, the
invariants (invariants.py) and the provider calls: every injected fault costs exactly one extra
call, none more. Bounded here (15 s of load); ``python -m bench chaos`` runs the review's minute."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import pytest

from core import ledger, subscriptions
from core.chat import QUOTA_HELD_MESSAGE, TURN_ERROR_MESSAGES
from core.i18n import translate
from tests.chaos.invariants import Followed, assert_ledger_exact, follow, stored_reply, wait_jobs_final
from tests.chaos.stack import Stack
from tests.conftest import EmulatorControl

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
MODEL = "gpt-5-mini"
LOAD_S = float(os.environ.get("PULSE_CHAOS_LOAD_SECONDS", "15"))
LANES, USERS = 50, 10  # 50 turns in flight, five per person
FAULT_EVERY_S = 0.25
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("http_429", {"retry_after_s": 0.2}),
    ("http_500", {}),
    ("http_529", {}),  # OpenAI's emulator answers 503
    ("stream_error", {"after_tokens": 3}),  # cut mid-stream: `restart`, then the whole reply
    ("truncate", {"after_tokens": 3}),  # ends without usage: retried
]


async def give_tokens(stack: Stack, user_id: str, tokens: int) -> None:
    async with stack.db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
        await ledger.adjust(
            session,
            user_id=user_id,
            unit="tokens",
            delta=tokens,
            actor_id=user_id,
            reason="chaos: load",
            key=f"load-{user_id}",
        )


async def used_tokens(stack: Stack, user_id: str) -> Any:
    async with stack.db.reader() as session:
        return (await ledger.usage(session, user_id)).units["tokens"]


def billed(followed: Followed) -> int:
    return sum(int(event.data["studio_tokens"]) for event in followed.stream.of("usage"))


async def assert_delivered(stack: Stack, turn_id: str, followed: Followed) -> None:
    assert followed.ended and followed.stream.last.type == "done", (turn_id, followed.stream.events[-3:])
    stored = await stored_reply(stack.db, turn_id)
    assert stored and stored == followed.stream.text, (turn_id, followed.stream.text, stored)
    ids = [event.id for event in followed.stream.events]
    assert len(ids) == len(set(ids)), f"{turn_id}: an event came twice"


async def assert_gave_up_after_five_provider_errors(stack: Stack, turn_id: str, followed: Followed) -> None:
    assert followed.ended and followed.stream.last.type == "error", (turn_id, followed.stream.events[-3:])
    assert followed.stream.last.data["code"] == "provider_error", followed.stream.last
    assert max(e.data["attempt"] for e in followed.stream.of("restart")) == 5, followed.stream.events
    assert not followed.stream.of("usage") and not await stored_reply(stack.db, turn_id)


async def test_50_turns_at_once_under_provider_faults(stack: Stack, emulator: EmulatorControl) -> None:
    clients = [await stack.sign_in() for _ in range(USERS)]
    for client in clients:
        await give_tokens(stack, client.headers["X-User-Id"], 1_000_000)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LOAD_S
    turns: list[tuple[httpx.AsyncClient, str, Followed]] = []

    async def lane(client: httpx.AsyncClient, number: int) -> None:
        while loop.time() < deadline:
            message = f"سؤال رقم {number}-{len(turns)}"
            response = await client.post(
                "/v1/chat/turns", json={"model": MODEL, "message": message, "max_tokens": 200}
            )
            assert response.status_code == 202, response.text
            turn = response.json()
            turns.append((client, turn["turn_id"], await follow(client, turn["events_url"], timeout=120)))

    async def inject() -> int:
        """One of each kind for the first turns, then a fault every FAULT_EVERY_S, never more
        than two waiting (a slow moment must not queue a burst that one turn's retries then
        take in a row)."""
        for kind, options in FAULTS:
            await emulator.fault(provider="openai", kind=kind, model=MODEL, **options)
        injected = len(FAULTS)
        while loop.time() < deadline:
            if injected - (await emulator.calls()).get("openai", {}).get("faults", 0) < 2:
                kind, options = FAULTS[injected % len(FAULTS)]
                await emulator.fault(provider="openai", kind=kind, model=MODEL, **options)
                injected += 1
            await asyncio.sleep(FAULT_EVERY_S)
        return injected

    began = time.monotonic()
    lanes = [lane(clients[i % USERS], i) for i in range(LANES)]
    injected, *_ = await asyncio.gather(inject(), *lanes)
    elapsed = time.monotonic() - began
    calls = (await emulator.settled(timeout=30))["openai"]
    await emulator.reset()  # faults still queued are not for the next scenario

    done = [turn_id for _c, turn_id, f in turns if f.ended and f.stream.last.type == "done"]
    for _client, turn_id, followed in turns:
        if turn_id in done:
            await assert_delivered(stack, turn_id, followed)
        else:  # its calls took five faults in a row: a turn may end so, nothing billed
            await assert_gave_up_after_five_provider_errors(stack, turn_id, followed)
    assert len(done) >= len(turns) - 2, f"{len(turns) - len(done)} turns failed"
    # Each fault cost exactly the one call that got it; every completed turn one call more.
    assert calls["requests"] == len(done) + calls["faults"], (calls, len(done))
    assert calls["faults"] >= max(len(FAULTS), injected // 2), (calls, injected)  # the rest: too late
    await wait_jobs_final(stack.db, timeout=60)
    await assert_ledger_exact(stack.db, timeout=60)
    for client in clients:
        mine = [followed for c, _id, followed in turns if c is client]
        tokens = await used_tokens(stack, client.headers["X-User-Id"])
        assert tokens.used == sum(billed(f) for f in mine) and tokens.reserved == 0
    restarts = sum(len(f.stream.of("restart")) for _c, _id, f in turns)
    print(
        f"chaos: {LANES} turns at once for {LOAD_S:.0f} s under faults: {len(done)} of {len(turns)} done in"
        f" {elapsed:.1f} s ({len(turns) / elapsed:.1f}/s), {calls['faults']} faults taken of"
        f" {injected} injected, {calls['requests'] - len(done)} extra provider calls,"
        f" {restarts} restarts shown, all billed once"
    )


async def test_30_turns_at_once_on_a_free_balance(stack: Stack, emulator: EmulatorControl) -> None:
    """Thirty turns started at once by one Free person (20,000 tokens): the balance never goes
    negative, every turn ends (done, or refused with quota_exceeded), and a refusal while other
    replies hold the tokens says so and how much, in the person's language (Arabic here)."""
    client = await stack.sign_in(locale="ar")
    user_id = client.headers["X-User-Id"]
    await emulator.fault(provider="openai", kind="slow", count=30, delay_s=0.15, model=MODEL)
    lowest: list[int] = []
    sampling = True

    async def sample_balance() -> None:
        while sampling:
            tokens = await used_tokens(stack, user_id)
            lowest.append(tokens.remaining)
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample_balance())
    requests = [
        client.post("/v1/chat/turns", json={"model": MODEL, "message": f"اكتب قصة قصيرة رقم {i}"})
        for i in range(30)
    ]
    responses = await asyncio.gather(*requests)
    accepted = [r.json() for r in responses if r.status_code == 202]
    refused_now = [r for r in responses if r.status_code != 202]
    followed = await asyncio.gather(*(follow(client, t["events_url"], timeout=120) for t in accepted))
    sampling = False
    await sampler

    held_prefix = translate(QUOTA_HELD_MESSAGE, "ar", held="\x00").split("\x00")[0]
    used_up = translate(TURN_ERROR_MESSAGES["quota_exceeded"], "ar")
    for response in refused_now:
        assert response.status_code == 402 and response.json()["code"] == "quota_exceeded", response.text
    refusals = [r.json()["message"] for r in refused_now]
    for turn, stream in zip(accepted, followed, strict=True):
        assert stream.ended, (turn["turn_id"], stream.stream.events[-3:])
        if stream.stream.last.type == "done":
            await assert_delivered(stack, turn["turn_id"], stream)
        else:
            assert stream.stream.last.data["code"] == "quota_exceeded", stream.stream.last
            refusals.append(stream.stream.last.data["message"])
    done = len(accepted) - (len(refusals) - len(refused_now))
    assert done >= 1 and refusals, (done, refusals)
    for message in refusals:  # other replies held the rest: never "you have used up your tokens"
        assert message != used_up and message.startswith(held_prefix), message
    await wait_jobs_final(stack.db, timeout=60)
    await assert_ledger_exact(stack.db)
    tokens = await used_tokens(stack, user_id)
    assert min(lowest) >= 0 and tokens.remaining >= 0, lowest
    assert tokens.used == sum(billed(f) for f in followed) <= 20_000
    print(
        f"chaos: 30 turns at once on Free: {done} done, {len(refused_now)} refused at start (402),"
        f" {len(refusals) - len(refused_now)} refused by the reservation; lowest balance seen"
        f" {min(lowest)}, used {tokens.used}"
    )
