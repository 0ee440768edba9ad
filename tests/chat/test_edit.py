"""Issue 24 item 11: editing a sent question — the conversation continues from the edited
question (it and every later exchange leave the conversation, stay billed), never a new
message at the end."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from core import chat
from core.db import Database
from tests.chat.helpers import read_events
from tests.chat.test_turns import start, tokens_usage
from tests.conftest import EmulatorControl

ARABIC = re.compile(r"[\u0600-\u06FF]")


async def converse(client: Any, questions: list[str]) -> tuple[str, list[str], list[int]]:
    conversation_id, turn_ids, billed = None, [], []
    for question in questions:
        extra = {"conversation_id": conversation_id} if conversation_id else {}
        turn = await start(client, message=question, **extra)
        stream = await read_events(client, turn["events_url"])
        assert stream.last.type == "done"
        billed.append(stream.of("usage")[0].data["studio_tokens"])
        conversation_id = turn["conversation_id"]
        turn_ids.append(turn["turn_id"])
    assert conversation_id is not None
    return conversation_id, turn_ids, billed


async def test_editing_a_past_question_continues_the_conversation_from_it(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    conversation_id, turns, billed = await converse(
        me.client, ["ما عاصمة الأردن؟", "وما أكبر مدنها؟", "كم عدد سكانها؟"]
    )
    edited = await me.client.post(
        f"/v1/chat/turns/{turns[1]}/edit", json={"message": "وما أقدم مدنها؟", "model": "claude-haiku-4-5"}
    )
    assert edited.status_code == 202, edited.text
    new = edited.json()
    assert new["conversation_id"] == conversation_id and new["turn_id"] not in turns
    stream = await read_events(me.client, new["events_url"])
    assert stream.last.type == "done" and ARABIC.search(stream.text)
    billed.append(stream.of("usage")[0].data["studio_tokens"])

    shown = (await me.client.get(f"/v1/chat/conversations/{conversation_id}")).json()["messages"]
    assert [(m["role"], m["turn_id"]) for m in shown] == [
        ("user", turns[0]),
        ("assistant", turns[0]),
        ("user", new["turn_id"]),
        ("assistant", new["turn_id"]),
    ]
    assert shown[2]["content"] == "وما أقدم مدنها؟" and shown[3]["model"] == "claude-haiku-4-5"
    async with db.reader() as session:  # upstream: the first exchange, then the edited question
        sent = await chat.turn_messages(session, new["turn_id"], 100_000)
    assert [content for _role, content in sent][::2] == ["ما عاصمة الأردن؟", "وما أقدم مدنها؟"]
    assert len(sent) == 3
    tokens = await tokens_usage(db, me.user_id)  # replaced exchanges stay billed
    assert tokens.used == sum(billed) and tokens.reserved == 0

    # The next question follows the edited branch.
    follow = await start(me.client, message="شكرًا", conversation_id=conversation_id)
    await read_events(me.client, follow["events_url"])
    async with db.reader() as session:
        sent = await chat.turn_messages(session, follow["turn_id"], 100_000)
    assert [content for role, content in sent if role == "user"] == [
        "ما عاصمة الأردن؟",
        "وما أقدم مدنها؟",
        "شكرًا",
    ]

    for stale in (turns[1], turns[2]):  # taken out of the conversation: no second edit of them
        refused = await me.client.post(f"/v1/chat/turns/{stale}/edit", json={"message": "x"})
        assert refused.status_code == 409 and refused.json()["code"] == "turn_replaced"
        assert ARABIC.search(refused.json()["message"])


async def test_edit_is_refused_while_running_for_someone_else_blank_or_twice_at_once(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me, other = await sign_in(), await sign_in(locale="en")
    conversation_id, turns, _billed = await converse(me.client, ["مرحبا"])
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.05, model="gpt-5-mini")
    running = await start(me.client, message="سؤال ثانٍ", conversation_id=conversation_id, max_tokens=200)
    busy = await me.client.post(f"/v1/chat/turns/{turns[0]}/edit", json={"message": "مرحبا مجددًا"})
    assert busy.status_code == 409 and busy.json()["code"] == "turn_running"
    await read_events(me.client, running["events_url"])

    assert (
        await other.client.post(f"/v1/chat/turns/{turns[0]}/edit", json={"message": "hi"})
    ).status_code == 404
    blank = await me.client.post(f"/v1/chat/turns/{turns[0]}/edit", json={"message": "   "})
    assert blank.status_code == 422 and blank.json()["code"] == "empty_message"
    shown = (await me.client.get(f"/v1/chat/conversations/{conversation_id}")).json()["messages"]
    assert len(shown) == 4  # a refused edit changes nothing

    both = await asyncio.gather(
        *(me.client.post(f"/v1/chat/turns/{turns[0]}/edit", json={"message": f"نسخة {n}"}) for n in (1, 2))
    )
    assert sorted(r.status_code for r in both) == [202, 409]
    winner = next(r.json() for r in both if r.status_code == 202)
    await read_events(me.client, winner["events_url"])
    shown = (await me.client.get(f"/v1/chat/conversations/{conversation_id}")).json()["messages"]
    assert [m["turn_id"] for m in shown] == [winner["turn_id"]] * 2
