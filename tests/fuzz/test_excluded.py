"""Direct tests of the operations the schema fuzzer leaves out (tests/fuzz/test_openapi.py):
revoking the caller's own session (it would sign the run out) and the event streams (they stay
open until their job ends). Each is fed the kind of input the fuzzer would send."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

import httpx

from providers.streams import parse_event_id
from tests.chat.helpers import read_events
from tests.conftest import SignedIn

SignIn = Callable[..., Awaitable[SignedIn]]
ARABIC = re.compile(r"[\u0600-\u06FF]")
# Path values a fuzzer tries: unknown, huge, non-ASCII, control characters.
ODD_IDS = ["0", "ffffffffffffffffffffffffffffffff", "x" * 5000, "١٢٣", "a%20b", "🙂"]
STREAM_DEADLINE_S = 30
# Last-Event-ID values a stream never issued: malformed, Redis's special ids, beyond 64 bits,
# beyond the stream's newest event (non-ASCII digits: see the test of ``parse_event_id``).
ODD_EVENT_IDS = [
    *("not-an-id", "1-x", "-1", "1-2-3", "$", ">", "+", "*", "0-", "1" * 300),
    *("99999999999999999999-0", "18446744073709551615-18446744073709551615", "9999999999999-0"),
]


def assert_coded(response: httpx.Response, status: int, code: str, *, arabic: bool) -> None:
    """A 4xx with a machine-readable code and a message in the caller's language."""
    assert response.status_code == status, (response.request.url, response.status_code, response.text)
    body = response.json()
    assert body["code"].endswith(code) and body["message"], body  # "not_found", "job_not_found"…
    assert bool(ARABIC.search(body["message"])) is arabic, (str(response.request.url)[:120], body)


async def test_revoking_the_callers_own_session_signs_it_out(sign_in: SignIn) -> None:
    me = await sign_in(locale="en")
    for odd in ODD_IDS:
        response = await me.client.delete(f"/v1/auth/sessions/{odd}")
        assert_coded(response, 404, "not_found", arabic=False)
    assert_coded(
        await me.client.delete("/v1/auth/sessions/0", params={"lang": "ar"}), 404, "not_found", arabic=True
    )
    # a NUL byte PostgreSQL cannot store answered 500 before
    assert_coded(await me.client.delete("/v1/auth/sessions/%00"), 422, "invalid_text", arabic=False)
    assert_coded(await me.client.delete("/v1/auth/sessions/a%00b?lang=ar"), 422, "invalid_text", arabic=True)
    current = next(s for s in (await me.client.get("/v1/auth/sessions")).json() if s["current"])
    assert (await me.client.delete(f"/v1/auth/sessions/{current['id']}")).status_code == 204
    signed_out = await me.client.get("/v1/auth/me", params={"lang": "en"})  # no user: no locale
    assert_coded(signed_out, 401, "unauthorized", arabic=False)
    again = await me.client.delete(f"/v1/auth/sessions/{current['id']}", params={"lang": "ar"})
    assert_coded(again, 401, "unauthorized", arabic=True)


async def test_event_streams_answer_bad_input_with_a_coded_4xx(sign_in: SignIn) -> None:
    owner, stranger = await sign_in(locale="en"), await sign_in(locale="ar")
    export = await owner.client.post("/v1/account/export")
    assert export.status_code == 202, export.text
    job_id = export.json()["job_id"]
    streams = ("/v1/jobs/{}/events", "/v1/chat/turns/{}/events")
    for template in streams:
        for odd in [*ODD_IDS, job_id]:
            response = await stranger.client.get(template.format(odd))
            assert_coded(response, 404, "not_found", arabic=True)
        assert_coded(await stranger.client.get(template.format("%00")), 422, "invalid_text", arabic=True)
        anonymous = await owner.client.get(template.format(job_id), headers={"Authorization": ""})
        assert_coded(anonymous, 401, "unauthorized", arabic=True)  # no user: the default language
    # the owner's stream ends (bounded)
    async with asyncio.timeout(STREAM_DEADLINE_S):
        stream = await read_events(owner.client, f"/v1/jobs/{job_id}/events")
    assert stream.events and stream.last.type in ("done", "error"), stream.events


async def test_an_odd_last_event_id_resumes_from_the_start_and_the_stream_ends(sign_in: SignIn) -> None:
    """Found by schemathesis: an id the bus never issued broke the stream with a RuntimeError
    (Redis refused it after the 200 was sent) or kept it open for ever (an id past the newest
    event, ``$``). Now it resumes from the start on both streams, like a first connection; an
    id at the final event gets the final event again, and a real id still resumes after it."""
    owner = await sign_in(locale="en")
    job_id = (await owner.client.post("/v1/account/export")).json()["job_id"]
    turn = await owner.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "hello"})
    assert turn.status_code == 202, turn.text
    for url in (f"/v1/jobs/{job_id}/events", turn.json()["events_url"]):
        async with asyncio.timeout(STREAM_DEADLINE_S):
            full = await read_events(owner.client, url)
            ids = [e.id for e in full.events]
            assert full.last.type in ("done", "error") and len(ids) >= 2, full.events
            for odd in [*ODD_EVENT_IDS, "0", "0-0"]:
                again = await read_events(owner.client, url, last_event_id=odd)
                assert [e.id for e in again.events] == ids, (url, odd, again.events)
            resumed = await read_events(owner.client, url, last_event_id=ids[0])
            assert [e.id for e in resumed.events] == ids[1:], (url, resumed.events)
            at_end = await read_events(owner.client, url, last_event_id=ids[-1])
            assert [e.id for e in at_end.events] == ids[-1:], (url, at_end.events)
            by_query = await owner.client.get(url, params={"after": "not-an-id"})
            assert by_query.status_code == 200 and f"id: {ids[-1]}" in by_query.text


def test_only_ids_a_bus_issues_parse() -> None:
    assert parse_event_id("1796225226307-0") == (1796225226307, 0) and parse_event_id("7") == (7, 0)
    for odd in ("١٢٣", "١-٠", "1-2-3", "$", "0x1", "+1", "18446744073709551616-0", "", None):
        assert parse_event_id(odd) is None, odd
