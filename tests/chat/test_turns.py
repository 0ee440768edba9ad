"""Chat turns through the HTTP API: real Temporal, PostgreSQL, Redis and the emulator."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Any

import pytest
from temporalio.client import Client

from api.chat import sse, turns
from core import catalog, chat, ledger, subscriptions
from core.db import Database
from core.settings import Settings
from tests.chat.helpers import Event, parse_sse_response, read_events
from tests.conftest import EmulatorControl
from workflows import STREAMS

ARABIC = re.compile(r"[\u0600-\u06FF]")
MODELS = ["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"]


async def start(
    client: Any, model: str = "gpt-5-mini", message: str = "مرحبا، كيف حالك؟", **extra: Any
) -> dict[str, Any]:
    response = await client.post("/v1/chat/turns", json={"model": model, "message": message, **extra})
    assert response.status_code == 202, response.text
    return dict(response.json())


async def leave_only(db: Database, user_id: str, *, tokens: int) -> None:
    """Support-adjust the user's tokens down so that exactly ``tokens`` remain."""
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
        available = (await ledger.usage(session, user_id)).units["tokens"].remaining
        await ledger.adjust(
            session,
            user_id=user_id,
            unit="tokens",
            delta=-(available - tokens),
            actor_id=user_id,
            reason="test: leave only a little",
            key=f"drain-{user_id}",
        )


async def tokens_usage(db: Database, user_id: str) -> Any:
    async with db.session() as session:
        summary = await ledger.usage(session, user_id)
    return summary.units["tokens"]


@pytest.mark.parametrize("model", MODELS)
async def test_streamed_arabic_turn_for_each_provider(
    sign_in: Any, db: Database, emulator: EmulatorControl, model: str
) -> None:
    me = await sign_in()
    turn = await start(me.client, model)
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "done", stream.events
    assert ARABIC.search(stream.text)
    assert stream.of("delta"), "text arrives as delta events (bursts are coalesced)"
    usage = stream.of("usage")[0].data
    assert usage["studio_tokens"] > 0
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == usage["studio_tokens"] and tokens.reserved == 0
    conversation = (await me.client.get(f"/v1/chat/conversations/{turn['conversation_id']}")).json()
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][1]["content"] == stream.text
    assert conversation["title"].startswith("مرحبا")
    ids = [e.id for e in stream.events]
    assert len(ids) == len(set(ids))


async def test_a_busy_api_process_leaves_the_reply_to_the_dedicated_workers(
    sign_in: Any, db: Database, client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a few open chat streams the API sends the stream activity to the STREAMS queue
    (dedicated workers only) instead of running it eagerly itself; the turn is the same."""
    me = await sign_in()
    monkeypatch.setattr(sse, "_open_relays", turns.STREAM_ITSELF_BELOW)
    turn = await start(me.client)
    monkeypatch.setattr(sse, "_open_relays", 0)
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "done" and ARABIC.search(stream.text)
    history = await client.get_workflow_handle(f"chat-turn-{turn['turn_id']}").fetch_history()
    scheduled = [e.activity_task_scheduled_event_attributes for e in history.events if e.event_type == 10]
    assert [a.task_queue.name for a in scheduled] == [settings.task_queue(STREAMS)]
    assert (await tokens_usage(db, me.user_id)).used == stream.last.data["usage"]["studio_tokens"]


async def test_resume_with_last_event_id_has_no_gaps_or_duplicates(
    sign_in: Any, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.02, model="gpt-5-mini")
    turn = await start(me.client)
    first = await read_events(me.client, turn["events_url"], stop_after=4)
    rest = await read_events(me.client, turn["events_url"], last_event_id=first.last.id)
    full = await read_events(me.client, turn["events_url"])
    assert [e.id for e in first.events + rest.events] == [e.id for e in full.events]
    assert full.last.type == "done"


async def test_stop_mid_stream_bills_partial_and_closes_upstream(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.05, model="gpt-5-mini")
    turn = await start(me.client, max_tokens=400)
    seen: list[Event] = []

    async def on_event(event: Event) -> None:
        seen.append(event)
        if len([e for e in seen if e.type == "delta"]) == 3:
            response = await me.client.post(f"/v1/chat/turns/{turn['turn_id']}/cancel")
            assert response.status_code == 202

    stream = await read_events(me.client, turn["events_url"], on_event=on_event)
    assert stream.last.type == "done" and stream.last.data["stopped"] is True
    billed = stream.last.data["usage"]["studio_tokens"]
    assert billed > 0
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == billed and tokens.reserved == 0
    calls = await emulator.settled()
    assert calls["openai"]["disconnects"] == 1
    conversation = (await me.client.get(f"/v1/chat/conversations/{turn['conversation_id']}")).json()
    reply = conversation["messages"][1]
    assert reply["status"] == "stopped" and reply["studio_tokens"] == billed
    assert 0 < len(reply["content"]) and stream.text.startswith(reply["content"][:5])


async def test_cancelling_the_workflow_alone_also_stops_and_bills_partial(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Client
) -> None:
    """The durable path of Stop (an operator's cancel in the Temporal UI, or a bus message that
    was missed): it reaches the activity on its next heartbeat."""
    me = await sign_in()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.25, model="gpt-5-mini")
    turn = await start(me.client, max_tokens=400)  # 20 tokens, 5 s
    seen: list[Event] = []

    async def on_event(event: Event) -> None:
        seen.append(event)
        if len([e for e in seen if e.type == "delta"]) == 6:  # past the first heartbeat
            await client.get_workflow_handle(f"chat-turn-{turn['turn_id']}").cancel()

    stream = await read_events(me.client, turn["events_url"], on_event=on_event)
    assert stream.last.type == "done" and stream.last.data["stopped"] is True
    billed = stream.last.data["usage"]["studio_tokens"]
    tokens = await tokens_usage(db, me.user_id)
    assert billed > 0 and tokens.used == billed and tokens.reserved == 0
    assert (await emulator.settled())["openai"]["disconnects"] == 1
    assert "".join(e.data["text"] for e in stream.of("delta")).count(" ") < 18, "it did not run to its end"


@pytest.mark.parametrize(
    ("provider", "model", "fault"),
    [
        ("openai", "gpt-5-mini", {"kind": "http_429", "retry_after_s": 0.2}),
        ("anthropic", "claude-haiku-4-5", {"kind": "http_529"}),
        ("anthropic", "claude-haiku-4-5", {"kind": "stream_error", "after_tokens": 3}),
    ],
)
async def test_transient_faults_are_retried_and_billed_once(
    sign_in: Any, db: Database, emulator: EmulatorControl, provider: str, model: str, fault: dict[str, Any]
) -> None:
    me = await sign_in()
    await emulator.fault(provider=provider, count=1, model=model, **fault)
    turn = await start(me.client, model)
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "done", stream.events
    if fault["kind"] == "stream_error":
        assert stream.of("restart"), "a retried partial stream is announced"
    usage = stream.of("usage")[0].data["studio_tokens"]
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == usage and tokens.reserved == 0
    calls = await emulator.settled()
    assert calls[provider]["requests"] == 2
    if provider == "openai":
        assert calls["openai"]["moderations"] == 1, "moderation is not repeated on retry"


async def test_provider_400_fails_fast_and_releases(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await emulator.fault(provider="openai", kind="http_400", count=1, model="gpt-5-mini")
    turn = await start(me.client)
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "error" and stream.last.data["code"] == "provider_error"
    assert stream.last.data["message"]
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == 0 and tokens.reserved == 0
    assert (await emulator.settled())["openai"]["requests"] == 1


async def test_not_enough_quota_is_refused_before_anything_is_recorded(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    """A message that needs more than is left: 402 with what it needs and what is left, in the
    caller's language; no conversation, no turn, no provider call (the workflow's reservation
    still refuses a turn that lost a race for the last tokens)."""
    me = await sign_in(locale="en")
    await leave_only(db, me.user_id, tokens=10)
    refused = await me.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "x" * 400})
    assert refused.status_code == 402 and refused.json()["code"] == "quota_exceeded"
    assert re.search(r"needs about \d+ tokens but 10 are left", refused.json()["message"])
    arabic = await me.client.post(
        "/v1/chat/turns?lang=ar", json={"model": "gpt-5-mini", "message": "x" * 400}
    )
    assert arabic.status_code == 402 and ARABIC.search(arabic.json()["message"])
    assert (await me.client.get("/v1/chat/conversations")).json() == []
    assert (await emulator.settled())["openai"]["requests"] == 0


async def test_reserve_shrinks_the_output_cap_to_what_is_left(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await leave_only(db, me.user_id, tokens=1500)
    turn = await start(me.client, "gpt-4o", max_tokens=4000)  # 4000 × weight is far above 1500
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "done"
    billed = stream.of("usage")[0].data["studio_tokens"]
    tokens = await tokens_usage(db, me.user_id)
    assert 0 < billed <= 1500
    assert tokens.remaining == 1500 - billed and tokens.reserved == 0


async def test_complete_route_waits_or_streams(sign_in: Any, emulator: EmulatorControl) -> None:
    me = await sign_in()
    response = await me.client.post(
        "/v1/chat/complete", json={"model": "gemini-2.5-flash", "message": "Hello there"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["content"] and not ARABIC.search(body["content"]) and body["usage"]["studio_tokens"] > 0
    async with me.client.stream(
        "POST", "/v1/chat/complete", json={"model": "claude-haiku-4-5", "message": "أهلا", "stream": True}
    ) as streamed:
        assert streamed.status_code == 200
        assert streamed.headers["content-type"].startswith("text/event-stream")
        stream = await parse_sse_response(streamed)
    assert stream.last.type == "done" and ARABIC.search(stream.text)


async def test_bad_input_gets_clear_errors(sign_in: Any) -> None:
    me = await sign_in(locale="en")
    unknown = await me.client.post("/v1/chat/turns", json={"model": "gpt-99", "message": "hi"})
    assert unknown.status_code in (400, 422) and unknown.json()["code"] == "model_unavailable"
    empty = await me.client.post("/v1/chat/turns", json={"model": "gpt-4o", "message": "   "})
    assert empty.status_code == 422 and empty.json()["code"] == "empty_message"
    missing = await me.client.post("/v1/chat/turns", json={"message": "hi"})
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"


async def test_conversations_are_scoped_to_their_owner(sign_in: Any, emulator: EmulatorControl) -> None:
    alice, bob = await sign_in(), await sign_in()
    turn = await start(alice.client, message="first question")
    await read_events(alice.client, turn["events_url"])
    conversation_id = turn["conversation_id"]
    assert (await bob.client.get(f"/v1/chat/conversations/{conversation_id}")).status_code == 404
    assert (await bob.client.get(turn["events_url"])).status_code == 404
    assert (await bob.client.post(f"/v1/chat/turns/{turn['turn_id']}/cancel")).status_code == 404
    second = await start(alice.client, message="and a follow-up", conversation_id=conversation_id)
    await read_events(alice.client, second["events_url"])
    listed = (await alice.client.get("/v1/chat/conversations")).json()
    assert [c["id"] for c in listed][:1] == [conversation_id]
    renamed = await alice.client.patch(f"/v1/chat/conversations/{conversation_id}", json={"title": "خطة"})
    assert renamed.json()["title"] == "خطة"
    detail = (await alice.client.get(f"/v1/chat/conversations/{conversation_id}")).json()
    assert len(detail["messages"]) == 4
    assert (await bob.client.delete(f"/v1/chat/conversations/{conversation_id}")).status_code == 404
    assert (await alice.client.delete(f"/v1/chat/conversations/{conversation_id}")).status_code == 204
    assert (await alice.client.get(f"/v1/chat/conversations/{conversation_id}")).status_code == 404


async def test_models_catalog(http: Any) -> None:
    models = (await http.get("/v1/chat/models")).json()
    ids = {m["id"] for m in models}
    assert {
        "gpt-5",
        "gpt-5-mini",
        "gpt-4o",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    } <= ids
    assert all(m["context_window"] > 0 for m in models)
    today = catalog.utc_today().isoformat()
    assert all(m["available"] == (m["retires_on"] is None or m["retires_on"] > today) for m in models)
    assert next(m for m in models if m["id"] == "claude-sonnet-4-5")["retires_on"] == "2026-11-30"


async def test_a_retired_model_is_refused_with_a_clear_error(
    sign_in: Any, emulator: EmulatorControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await sign_in(locale="ar")
    monkeypatch.setattr(catalog, "utc_today", lambda: date(2026, 11, 30))  # the clock, not the code
    response = await me.client.post("/v1/chat/turns", json={"model": "claude-sonnet-4-5", "message": "مرحبا"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "model_unavailable" and "2026-11-30" in body["message"]
    models = (await me.client.get("/v1/chat/models")).json()
    assert next(m for m in models if m["id"] == "claude-sonnet-4-5")["available"] is False
    assert (await emulator.calls()).get("anthropic", {}).get("requests", 0) == 0
    assert (await me.client.get("/v1/chat/conversations")).json() == []  # nothing half-written


async def test_concurrent_turns_bill_exactly(sign_in: Any, db: Database, emulator: EmulatorControl) -> None:
    me = await sign_in()
    turns = await asyncio.gather(*(start(me.client, message=f"سؤال {i}", max_tokens=200) for i in range(8)))
    streams = await asyncio.gather(*(read_events(me.client, t["events_url"]) for t in turns))
    assert [s.last.type for s in streams] == ["done"] * 8
    billed = sum(s.of("usage")[0].data["studio_tokens"] for s in streams)
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == billed and tokens.reserved == 0


async def test_flagged_input_is_blocked_before_any_text_is_shown(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    turn = await start(me.client, "claude-haiku-4-5", message="please emulator-flag this")
    stream = await read_events(me.client, turn["events_url"])
    assert stream.last.type == "error" and stream.last.data["code"] == "moderation_blocked"
    assert "content policy" in stream.last.data["message"]
    assert stream.of("delta") == [], "the completion started beside moderation shows nothing"
    calls = await emulator.settled()
    assert calls["openai"]["moderations"] == 1 and calls["anthropic"]["requests"] <= 1
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == 0 and tokens.reserved == 0


async def test_complete_route_answers_a_failed_turn_with_its_code(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    await leave_only(db, me.user_id, tokens=10)
    response = await me.client.post("/v1/chat/complete", json={"model": "gpt-4o", "message": "hi"})
    assert response.status_code == 402
    assert response.json()["code"] == "quota_exceeded" and "tokens" in response.json()["message"]


async def test_regenerate_replaces_the_last_reply_without_repeating_the_question(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    first = await start(me.client, message="ما عاصمة الأردن؟")
    billed = [(await read_events(me.client, first["events_url"])).of("usage")[0].data["studio_tokens"]]
    second = await start(me.client, message="وما أكبر مدنها؟", conversation_id=first["conversation_id"])
    billed.append((await read_events(me.client, second["events_url"])).of("usage")[0].data["studio_tokens"])

    response = await me.client.post(
        f"/v1/chat/turns/{second['turn_id']}/regenerate", json={"model": "gemini-2.5-flash"}
    )
    assert response.status_code == 202, response.text
    again = response.json()
    assert again["conversation_id"] == first["conversation_id"] and again["turn_id"] != second["turn_id"]
    stream = await read_events(me.client, again["events_url"])
    assert stream.last.type == "done" and ARABIC.search(stream.text)
    billed.append(stream.of("usage")[0].data["studio_tokens"])

    conversation = (await me.client.get(f"/v1/chat/conversations/{first['conversation_id']}")).json()
    messages = conversation["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2]["content"] == "وما أكبر مدنها؟" and messages[2]["turn_id"] == again["turn_id"]
    assert messages[3]["model"] == "gemini-2.5-flash" and messages[3]["content"] == stream.text
    async with db.reader() as session:  # what went upstream: the question once
        sent = await chat.turn_messages(session, again["turn_id"], 100_000)
    assert [role for role, _ in sent] == ["user", "assistant", "user"]
    tokens = await tokens_usage(db, me.user_id)  # the replaced reply stays billed
    assert tokens.used == sum(billed) and tokens.reserved == 0

    for stale in (second["turn_id"], first["turn_id"]):
        refused = await me.client.post(f"/v1/chat/turns/{stale}/regenerate")
        assert refused.status_code == 409 and refused.json()["code"] == "turn_not_latest"
        assert ARABIC.search(refused.json()["message"])


async def test_regenerate_is_refused_while_running_twice_at_once_or_for_someone_else(
    sign_in: Any, emulator: EmulatorControl
) -> None:
    me, other = await sign_in(), await sign_in(locale="en")
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.05, model="gpt-5-mini")
    turn = await start(me.client, max_tokens=200)
    running = await me.client.post(f"/v1/chat/turns/{turn['turn_id']}/regenerate")
    assert running.status_code == 409 and running.json()["code"] == "turn_running"
    await read_events(me.client, turn["events_url"])

    assert (await other.client.post(f"/v1/chat/turns/{turn['turn_id']}/regenerate")).status_code == 404
    both = await asyncio.gather(
        *(me.client.post(f"/v1/chat/turns/{turn['turn_id']}/regenerate") for _ in range(2))
    )
    assert sorted(r.status_code for r in both) == [202, 409]
    winner = next(r.json() for r in both if r.status_code == 202)
    await read_events(me.client, winner["events_url"])
    conversation = (await me.client.get(f"/v1/chat/conversations/{turn['conversation_id']}")).json()
    assert [m["turn_id"] for m in conversation["messages"]] == [winner["turn_id"]] * 2

    assert (await me.client.delete(f"/v1/chat/conversations/{turn['conversation_id']}")).status_code == 204
    gone = await me.client.post(f"/v1/chat/turns/{winner['turn_id']}/regenerate")
    assert gone.status_code == 404 and gone.json()["code"] == "turn_not_found"
