"""The emailed link opens a page and signs in only from its button (#15 item 9); the place the
person was going survives sign-in (#24 item 8); a used, expired or unknown link offers a new
one with the email filled in (#24 item 10)."""

from __future__ import annotations

import html
import uuid

import httpx
from sqlalchemy import update

from core.db import Database
from core.models import MagicLinkToken
from core.models.base import utcnow
from tests.accounts.conftest import latest_token_row
from tests.conftest import follow_link, link_path, mailbox_ids, mailbox_link, request_link


def new_email() -> str:
    return f"link-{uuid.uuid4().hex[:10]}@example.com"


async def test_opening_the_link_uses_nothing_and_the_button_signs_in(http: httpx.AsyncClient) -> None:
    email = new_email()
    link = await request_link(http, email, "en")
    async with httpx.AsyncClient(base_url=http.base_url) as scanner:  # a mail scanner, twice
        for _ in range(2):
            scanned = await scanner.get(link_path(link))
            assert scanned.status_code == 200 and "pulse_session" not in scanned.headers.get("set-cookie", "")
            assert email in scanned.text and 'method="post"' in scanned.text
    signed = await follow_link(http, link)
    assert signed.status_code == 303 and signed.headers["location"] == "/chat"
    assert "pulse_session=" in "".join(signed.headers.get_list("set-cookie"))
    again = await http.get(link_path(link) + "&lang=en")  # now used: a page offering a new link
    assert again.status_code == 400 and f'value="{email}"' in again.text
    assert 'data-testid="signin-notice"' in again.text and "Send me a new link" in again.text


async def test_the_button_needs_the_pages_nonce(http: httpx.AsyncClient) -> None:
    link = await request_link(http, new_email())
    token = httpx.URL(link).params["token"]
    async with httpx.AsyncClient(base_url=http.base_url) as other_site:  # login CSRF: no page cookie
        forged = await other_site.post(
            "/auth/verify", data={"token": token, "nonce": "guess", "next": "/chat"}
        )
    assert forged.status_code == 400 and "pulse_session" not in forged.headers.get("set-cookie", "")
    signed = await follow_link(http, link)  # the link still works for its owner
    assert signed.status_code == 303


async def test_an_expired_link_offers_a_new_one_with_the_email_and_destination(
    http: httpx.AsyncClient, db: Database
) -> None:
    email = new_email()
    sent = await http.post(
        "/v1/auth/magic-link", json={"email": email, "locale": "en", "next": "/billing?item=plan:pro"}
    )
    assert sent.status_code == 202
    row = await latest_token_row(db, email)
    async with db.session() as session:
        await session.execute(
            update(MagicLinkToken).where(MagicLinkToken.id == row.id).values(expires_at=utcnow())
        )
    link = await mailbox_link(http, email)
    assert httpx.URL(link).params["next"] == "/billing?item=plan:pro"
    page = await http.get(link_path(link) + "&lang=en")
    assert page.status_code == 400
    assert f'value="{email}"' in page.text and 'data-next="/billing?item=plan:pro"' in page.text
    assert "expired" in page.text


async def test_the_destination_is_carried_through_sign_in_same_origin_only(http: httpx.AsyncClient) -> None:
    email = new_email()
    for target, lands in (
        ("/billing?item=plan:pro", "/billing?item=plan:pro"),
        ("https://evil.example/x", "/chat"),
        ("//evil.example/x", "/chat"),
        ("/\\evil.example", "/chat"),
    ):
        seen = await mailbox_ids(http, email)
        response = await http.post("/v1/auth/magic-link", json={"email": email, "next": target})
        assert response.status_code == 202
        link = await mailbox_link(http, email, seen=seen)
        signed = await follow_link(http, link)
        assert signed.status_code == 303 and signed.headers["location"] == lands, target


async def test_pages_send_visitors_to_sign_in_and_back(http: httpx.AsyncClient) -> None:
    page = await http.get("/billing", params={"item": "plan:pro"}, headers={"Accept": "text/html"})
    assert page.status_code == 303
    back = httpx.URL(page.headers["location"])
    assert back.path == "/signin" and httpx.URL(back.params["next"]).params["item"] == "plan:pro"
    signin = await http.get(page.headers["location"])
    assert f'data-next="{html.escape(back.params["next"])}"' in signin.text
    landing = await http.get("/")
    assert "/signin?next=/billing%3Fitem%3Dplan%3Apro" in landing.text
    hostile = await http.get("/signin", params={"next": "//evil.example"})
    assert 'data-next=""' in hostile.text
