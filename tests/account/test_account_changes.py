"""Issue 24, item 12 through the HTTP API: display name, changing the sign-in email by a link
sent to the new address, and deleting the account after a grace period (undoable)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from core import erasure
from core.db import Database
from core.models import Conversation, Payment, User
from core.models.base import new_id, utcnow
from tests.chat.helpers import read_events
from tests.conftest import EmulatorControl, link_path, mailbox_link

ARABIC = re.compile(r"[\u0600-\u06FF]")


async def test_display_name_and_email_change_by_a_link_to_the_new_address(sign_in: Any) -> None:
    me = await sign_in(locale="en")
    named = await me.client.patch("/v1/auth/me", json={"name": "  ليلى  "})
    assert named.status_code == 200 and named.json()["name"] == "ليلى"
    new_email = f"new-{uuid.uuid4().hex[:10]}@example.com"
    asked = await me.client.post("/v1/account/email", json={"email": new_email})
    assert asked.status_code == 202 and new_email in asked.json()["message"]
    assert (await me.client.get("/v1/auth/me")).json()["email"] == me.email  # not before the link
    link = await mailbox_link(me.client, new_email)
    async with httpx.AsyncClient(base_url=str(me.client.base_url)) as browser:
        opened = await browser.get(link_path(link))
        assert opened.status_code == 303 and opened.headers["location"] == "/account?email=changed"
        again = await browser.get(link_path(link), headers={"accept": "application/json"})
    assert again.status_code == 400 and again.json()["code"] == "invalid_link"
    assert (await me.client.get("/v1/auth/me")).json()["email"] == new_email


async def test_email_change_refusals_are_clear(sign_in: Any) -> None:
    me, other = await sign_in(locale="en"), await sign_in(locale="ar")
    same = await me.client.post("/v1/account/email", json={"email": me.email.upper()})
    assert same.status_code == 422 and same.json()["code"] == "same_email"
    taken = await me.client.post("/v1/account/email", json={"email": other.email})
    assert taken.status_code == 409 and taken.json()["code"] == "email_taken"
    bad = await me.client.post("/v1/account/email", json={"email": "not an email"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    arabic = await other.client.post("/v1/account/email", json={"email": me.email})
    assert ARABIC.search(arabic.json()["message"])


async def test_deletion_is_confirmed_undoable_and_then_erases(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    turn = await me.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hello"})
    assert turn.status_code == 202
    assert (await read_events(me.client, turn.json()["events_url"])).last.type == "done"
    async with db.session() as session:
        session.add(
            Payment(
                id=new_id(),
                user_id=me.user_id,
                kind="addon",
                item_id="images_10",
                amount_fils=1000,
                status="succeeded",
            )
        )
        await session.commit()
    wrong = await me.client.post("/v1/account/deletion", json={"confirm_email": "someone@else.com"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "deletion_not_confirmed"
    scheduled = await me.client.post("/v1/account/deletion", json={"confirm_email": me.email})
    assert scheduled.status_code == 200 and "undo" in scheduled.json()["message"]
    undone = await me.client.delete("/v1/account/deletion")
    assert undone.json()["delete_after"] is None
    async with db.session() as session:
        assert me.user_id not in await erasure.accounts_to_erase(session, utcnow() + timedelta(days=30))
    await me.client.post("/v1/account/deletion", json={"confirm_email": me.email})
    async with db.session() as session:
        assert me.user_id not in await erasure.accounts_to_erase(session, utcnow() + timedelta(days=13))
        assert me.user_id in await erasure.accounts_to_erase(session, utcnow() + timedelta(days=15))
        assert await erasure.claim(session, me.user_id, utcnow() + timedelta(days=15))
        assert await erasure.erase_rows(session, me.user_id)
    assert (await me.client.get("/v1/auth/me")).status_code == 401  # sessions revoked
    async with db.session() as session:
        user = await session.get(User, me.user_id)
        assert user is not None and user.deleted_at is not None and me.email not in user.email
        conversations = await session.scalar(select(func.count()).where(Conversation.user_id == me.user_id))
        payments = await session.scalar(select(func.count()).where(Payment.user_id == me.user_id))
    assert conversations == 0 and payments == 1  # payment records kept
