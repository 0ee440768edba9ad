"""Issue 24, items 1–2: a running turn holds what a reply plausibly uses (not the balance),
two tabs chat at once, and a message too long for the balance is refused with figures."""

from __future__ import annotations

import asyncio
from typing import Any

from core import catalog, ledger, turn_quota
from core.db import Database
from tests.chat.helpers import read_events
from tests.chat.test_turns import leave_only, start, tokens_usage
from tests.conftest import EmulatorControl


def test_default_output_caps_fit_each_model() -> None:
    for model in catalog.MODELS.values():
        cap = catalog.default_output_tokens(model)
        assert 1024 <= cap <= model.max_output_tokens
        assert cap < model.max_output_tokens
    assert catalog.default_output_tokens(catalog.MODELS["gpt-5"]) == 4096  # not 128k


async def test_running_turns_hold_a_plausible_amount_and_two_tabs_chat_at_once(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await leave_only(db, me.user_id, tokens=50_000)
    await emulator.fault(provider="openai", kind="slow", count=2, delay_s=0.1, model="gpt-5-mini")
    first = await start(me.client)
    second = await start(me.client, message="And a second tab")
    await asyncio.sleep(0.5)
    async with db.session() as session:
        mid = (await ledger.usage(session, me.user_id)).units["tokens"]
    weight = catalog.MODELS["gpt-5-mini"].token_weight
    assert 0 < mid.reserved <= 2 * (200 + 4096) * weight  # two default caps, not the balance
    assert mid.remaining >= 50_000 - mid.reserved - mid.used > 0
    api_view = (await me.client.get("/v1/usage/me")).json()["units"]["tokens"]
    assert api_view["reserved"] > 0 and api_view["remaining"] > 0
    streams = await asyncio.gather(
        read_events(me.client, first["events_url"]), read_events(me.client, second["events_url"])
    )
    assert [stream.last.type for stream in streams] == ["done", "done"]
    billed = [stream.of("usage")[0].data["studio_tokens"] for stream in streams]
    after = await tokens_usage(db, me.user_id)
    assert after.reserved == 0 and after.remaining == 50_000 - sum(billed)


async def test_a_max_tokens_request_adjusts_the_hold(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await leave_only(db, me.user_id, tokens=50_000)
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.1, model="gpt-5-mini")
    turn = await start(me.client, max_tokens=300)
    await asyncio.sleep(0.3)
    async with db.session() as session:
        held = (await ledger.usage(session, me.user_id)).units["tokens"].reserved
    assert 300 < held <= 300 + 200
    assert (await read_events(me.client, turn["events_url"])).last.type == "done"


def test_the_default_cap_shrinks_to_a_fair_share_of_a_small_balance() -> None:
    gpt5 = catalog.MODELS["gpt-5"]
    cap = catalog.default_output_tokens(gpt5)
    assert turn_quota.fair_output_cap(gpt5, cap, 1_000_000, 50) == cap
    assert turn_quota.fair_output_cap(gpt5, cap, 20_000, 50) == 20_000 // 2 // 5 - 50
    assert turn_quota.fair_output_cap(gpt5, cap, 2_000, 50) == turn_quota.MIN_DEFAULT_OUTPUT


async def test_two_gpt5_tabs_on_a_free_balance_both_hold_a_share(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()  # Free: 20,000 tokens
    await emulator.fault(provider="openai", kind="slow", count=2, delay_s=0.1, model="gpt-5")
    first = await start(me.client, "gpt-5")
    await asyncio.sleep(0.3)
    second = await start(me.client, "gpt-5", message="A second tab")
    await asyncio.sleep(0.3)
    async with db.session() as session:
        mid = (await ledger.usage(session, me.user_id)).units["tokens"]
    assert mid.reserved <= 20_000 // 2 + 20_000 // 4 + 1_000 and mid.remaining > 4_000
    for turn in (first, second):
        assert (await read_events(me.client, turn["events_url"])).last.type == "done"
