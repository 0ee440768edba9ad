"""Moderation beside the completion (docs/chat.md "Moderation"): the first token no longer waits
for a whole moderation round trip, and a flagged prompt still shows and bills nothing."""

from __future__ import annotations

import time
from typing import Any

from core import ledger
from core.db import Database
from tests.chat.helpers import Event, read_events
from tests.conftest import EmulatorControl


async def set_latency(emulator: EmulatorControl, **latency: int) -> None:
    response = await emulator.http.post(f"{emulator.url}/_emulator/latency", json=latency)
    response.raise_for_status()  # the emulator fixture's reset restores the defaults


async def warm_up(me: Any, model: str) -> None:
    """One turn first: the cold start has its own test (tests/chat/test_cold_start.py)."""
    warm = await me.client.post("/v1/chat/turns", json={"model": model, "message": "warm"})
    await read_events(me.client, warm.json()["events_url"])


async def tokens_of(db: Database, user_id: str) -> Any:
    async with db.session() as session:
        return (await ledger.usage(session, user_id)).units["tokens"]


async def test_first_delta_does_not_wait_for_the_moderation_round_trip(
    sign_in: Any, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await warm_up(me, "gpt-5-mini")
    await set_latency(emulator, moderation_ms=300, ttft_ms=300, token_ms=0)
    first_delta: list[float] = []

    async def on_event(event: Event) -> None:
        if event.type == "delta" and not first_delta:
            first_delta.append(time.perf_counter())

    response = await me.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "مرحبا"})
    started = time.perf_counter()  # the turn's workflow has started: both calls are still ahead
    assert response.status_code == 202, response.text
    stream = await read_events(me.client, response.json()["events_url"], on_event=on_event)
    assert stream.last.type == "done" and stream.text
    calls = await emulator.settled()
    assert calls["openai"]["moderations"] == 2 and calls["openai"]["during_moderation"] == 1
    # one after the other it takes 300 + 300 ms plus our own overhead; side by side, 300 + overhead
    assert first_delta[0] - started < 0.6, f"first delta after {first_delta[0] - started:.3f} s"


async def test_flagged_prompt_cancels_the_running_completion_and_bills_nothing(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    await warm_up(me, "claude-haiku-4-5")
    used_by_warm_up = (await tokens_of(db, me.user_id)).used
    await set_latency(emulator, moderation_ms=300, ttft_ms=0, token_ms=50)  # a 1 s reply
    response = await me.client.post(
        "/v1/chat/turns", json={"model": "claude-haiku-4-5", "message": "please emulator-flag this"}
    )
    assert response.status_code == 202, response.text
    stream = await read_events(me.client, response.json()["events_url"])
    assert stream.last.type == "error" and stream.last.data["code"] == "moderation_blocked"
    assert stream.of("delta") == [], "nothing the provider sent before the verdict is shown"
    calls = await emulator.settled()
    assert calls["anthropic"]["during_moderation"] == 1, "the completion ran beside moderation"
    assert calls["anthropic"]["disconnects"] == 1 and calls["anthropic"]["completed"] == 1  # the warm-up
    tokens = await tokens_of(db, me.user_id)
    assert tokens.used == used_by_warm_up and tokens.reserved == 0
