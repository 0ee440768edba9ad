"""Magic-link sign-in through the real API, Temporal worker and dev outbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from sqlalchemy import select, text, update
from temporalio.client import Client

from core.accounts import hash_secret
from core.db import Database
from core.models import Base, MagicLinkToken
from core.models.base import utcnow
from tests.accounts.conftest import latest_token_row
from tests.conftest import SignedIn, follow_link, link_path, link_token, request_link

SignIn = Callable[..., Awaitable[SignedIn]]


def new_email() -> str:
    return f"someone-{uuid.uuid4().hex[:10]}@example.com"


async def test_same_202_for_known_and_unknown_emails(http: httpx.AsyncClient, sign_in: SignIn) -> None:
    known = await sign_in()
    first = await http.post("/v1/auth/magic-link", json={"email": known.email})
    second = await http.post("/v1/auth/magic-link", json={"email": new_email()})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert first.json()["status"] == "accepted"
    assert set(first.headers) - {"x-request-id", "date"} == set(second.headers) - {"x-request-id", "date"}


async def test_verify_returns_session_and_user(http: httpx.AsyncClient) -> None:
    email = new_email()
    link = await request_link(http, email, "en")
    response = await http.post("/v1/auth/magic-link/verify", json={"token": link_token(link)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["user"]["email"] == email and body["user"]["locale"] == "en" and body["user"]["role"] == "user"
    )
    assert body["access_token"].count(".") == 2 and body["expires_at"]
    cookie = response.headers["set-cookie"]
    assert "pulse_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # dev/test; Secure outside dev (settings.cookie_secure)
    me = await http.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == body["user"]["id"]


async def test_link_is_single_use(http: httpx.AsyncClient) -> None:
    token = link_token(await request_link(http, new_email()))
    assert (await http.post("/v1/auth/magic-link/verify", json={"token": token})).status_code == 200
    again = await http.post("/v1/auth/magic-link/verify", json={"token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_or_expired_link"
    assert "رابط" in again.json()["message"]  # Arabic by default
    by_get = await http.get("/auth/verify", params={"token": token}, headers={"Accept": "application/json"})
    assert by_get.status_code == 400 and by_get.json()["code"] == "invalid_or_expired_link"
    assert by_get.json()["status"] == "used"


async def test_link_expires(http: httpx.AsyncClient, db: Database) -> None:
    email = new_email()
    token = link_token(await request_link(http, email))
    row = await latest_token_row(db, email)
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    async with db.session() as session:
        await session.execute(
            update(MagicLinkToken).where(MagicLinkToken.id == row.id).values(expires_at=utcnow())
        )
    response = await http.post("/v1/auth/magic-link/verify", json={"token": token})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_or_expired_link"


async def test_unknown_token_is_rejected(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/auth/magic-link/verify", json={"token": "x" * 43}, params={"lang": "en"})
    assert response.status_code == 400
    assert response.json()["message"].startswith("This sign-in link is invalid")


async def test_database_never_holds_the_raw_token(
    http: httpx.AsyncClient, db: Database, client: Client, sign_in: SignIn
) -> None:
    email = new_email()
    token = link_token(await request_link(http, email))
    me = await sign_in()
    key = (await me.client.post("/v1/auth/api-keys", json={"name": "ci"})).json()["key"]
    row = await latest_token_row(db, email)
    assert len(token) >= 43  # 32 random bytes, urlsafe base64
    assert row.token_hash == hash_secret(token)
    dump = await dump_database(db)
    assert token not in dump and key not in dump
    assert hash_secret(token) in dump and hash_secret(key) in dump
    # The link travels sealed through the workflow, so Temporal's history never holds it either.
    history = await client.get_workflow_handle(f"email-magic-link-{row.id}").fetch_history()
    assert token not in json.dumps(history.to_json_dict())


async def dump_database(db: Database) -> str:
    """Every row of every table, as text."""
    chunks: list[str] = []
    async with db.session() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            chunks.extend(repr(tuple(r)) for r in rows)
    return "\n".join(chunks)


async def test_emailed_link_sets_cookies_and_redirects(http: httpx.AsyncClient) -> None:
    link = await request_link(http, new_email())
    assert link_path(link).startswith("/auth/verify?token=")
    response = await follow_link(http, link, next="//evil.example/x")
    assert response.status_code == 303
    assert response.headers["location"] == "/chat"  # into the app, never off-site
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("pulse_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("pulse_csrf="))
    assert "HttpOnly" in session_cookie and "HttpOnly" not in csrf_cookie
    assert "Max-Age=2592000" in session_cookie  # 30 days


async def test_next_keeps_same_site_paths(http: httpx.AsyncClient) -> None:
    link = await request_link(http, new_email())
    response = await follow_link(http, link, next="/usage")
    assert response.status_code == 303 and response.headers["location"] == "/usage"


async def test_new_user_takes_the_requested_locale_and_keeps_it(
    http: httpx.AsyncClient, db: Database
) -> None:
    email = new_email()
    await request_link(http, email, "en")
    await request_link(http, email, "ar")
    response = await http.get("/dev/mailbox.json", params={"to": email})
    messages = response.json()
    assert len(messages) == 2
    assert all(m["locale"] == "en" for m in messages)  # the user's locale, not the later request's
    assert messages[0]["sent_at"] >= messages[1]["sent_at"]  # newest first
    assert messages[0]["subject"] == "Your sign-in link for Pulse AI Studio"
    async with db.session() as session:
        rows = (await session.execute(select(MagicLinkToken.id))).all()
    assert rows


async def test_invalid_email_is_a_localized_validation_error(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/auth/magic-link", json={"email": "not-an-email"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["fields"][0]["field"] == "email"


async def test_concurrent_first_requests_create_one_user(http: httpx.AsyncClient, db: Database) -> None:
    from core.models import User

    email = new_email()
    variants = [email, email.upper(), f"  {email}  ".strip(), email.capitalize(), email]
    responses = await asyncio.gather(
        *(http.post("/v1/auth/magic-link", json={"email": variant}) for variant in variants)
    )
    assert [r.status_code for r in responses] == [202] * len(variants)
    async with db.session() as session:
        users = (await session.execute(select(User).where(User.email == email))).scalars().all()
    assert len(users) == 1
