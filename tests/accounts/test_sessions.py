"""Sessions, CSRF, personal API keys and owner scoping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from tests.conftest import TEST_SECRET, SignedIn

SignIn = Callable[..., Awaitable[SignedIn]]


async def test_missing_or_bad_auth_is_401(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not.a.jwt"}, {"Authorization": "Basic abc"}):
        response = await http.get("/v1/auth/me", headers=headers, params={"lang": "en"})
        assert response.status_code == 401, headers
        assert response.json() == {
            "code": "unauthorized",
            "message": "Sign in to continue.",
            "request_id": response.headers["x-request-id"],
        }


async def test_logout_revokes_the_jwt(sign_in: SignIn) -> None:
    me = await sign_in()
    assert (await me.client.get("/v1/auth/me")).status_code == 200
    assert (await me.client.post("/v1/auth/logout")).status_code == 204
    assert (await me.client.get("/v1/auth/me")).status_code == 401


async def test_sign_out_everywhere(sign_in: SignIn, sign_in_cookie: SignIn) -> None:
    phone = await sign_in()
    laptop = await sign_in(phone.email)
    browser = await sign_in_cookie(phone.email)
    sessions = (await laptop.client.get("/v1/auth/sessions")).json()
    assert len(sessions) == 3
    assert [s["current"] for s in sessions].count(True) == 1
    response = await laptop.client.delete("/v1/auth/sessions")
    assert response.status_code == 200 and response.json() == {"revoked": 3}
    for signed_in in (phone, laptop, browser):
        assert (await signed_in.client.get("/v1/auth/me")).status_code == 401


async def test_revoke_one_session(sign_in: SignIn) -> None:
    first = await sign_in()
    second = await sign_in(first.email)
    sessions = (await first.client.get("/v1/auth/sessions")).json()
    other = next(s for s in sessions if not s["current"])
    assert (await first.client.delete(f"/v1/auth/sessions/{other['id']}")).status_code == 204
    assert (await second.client.get("/v1/auth/me")).status_code == 401
    assert (await first.client.get("/v1/auth/me")).status_code == 200


async def test_cookie_auth_needs_the_csrf_header_for_unsafe_methods(sign_in_cookie: SignIn) -> None:
    browser = await sign_in_cookie()
    jar = browser.client
    csrf = jar.headers.pop("X-CSRF-Token")
    assert (await jar.get("/v1/auth/me")).status_code == 200  # safe methods need no header
    missing = await jar.post("/v1/auth/api-keys", json={"name": "x"}, params={"lang": "en"})
    assert missing.status_code == 403 and missing.json()["code"] == "csrf_failed"
    wrong = await jar.post("/v1/auth/api-keys", json={"name": "x"}, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403 and wrong.json()["code"] == "csrf_failed"
    ok = await jar.post("/v1/auth/api-keys", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    logout = await jar.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert logout.status_code == 204
    assert (await jar.get("/v1/auth/me")).status_code == 401


async def test_csrf_token_of_another_session_is_refused(sign_in_cookie: SignIn) -> None:
    mine = await sign_in_cookie()
    theirs = await sign_in_cookie()
    stolen = theirs.client.cookies["pulse_csrf"]
    mine.client.cookies.set("pulse_csrf", stolen)
    response = await mine.client.post("/v1/auth/api-keys", json={}, headers={"X-CSRF-Token": stolen})
    assert response.status_code == 403


async def test_bearer_requests_never_need_csrf(sign_in: SignIn) -> None:
    me = await sign_in()
    assert (await me.client.post("/v1/auth/api-keys", json={"name": "bot"})).status_code == 201


async def test_api_key_lifecycle(sign_in: SignIn, api_url: str) -> None:
    me = await sign_in()
    created = await me.client.post("/v1/auth/api-keys", json={"name": "laptop script"})
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith(body["prefix"] + "_") and body["prefix"].startswith("pulse_")
    listed = (await me.client.get("/v1/auth/api-keys")).json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0] and listed[0]["prefix"] == body["prefix"]
    async with httpx.AsyncClient(base_url=api_url, headers={"Authorization": f"Bearer {key}"}) as bot:
        assert (await bot.get("/v1/auth/me")).json()["id"] == me.user_id
        assert (await me.client.delete(f"/v1/auth/api-keys/{body['id']}")).status_code == 204
        assert (await bot.get("/v1/auth/me")).status_code == 401
    assert (await me.client.get("/v1/auth/api-keys")).json() == []


async def test_one_user_cannot_see_or_revoke_anothers_sessions_or_keys(sign_in: SignIn) -> None:
    alice = await sign_in()
    bob = await sign_in()
    alice_key = (await alice.client.post("/v1/auth/api-keys", json={"name": "a"})).json()
    alice_session = (await alice.client.get("/v1/auth/sessions")).json()[0]
    assert alice_session["id"] not in {s["id"] for s in (await bob.client.get("/v1/auth/sessions")).json()}
    assert (await bob.client.get("/v1/auth/api-keys")).json() == []
    for path in (f"/v1/auth/sessions/{alice_session['id']}", f"/v1/auth/api-keys/{alice_key['id']}"):
        response = await bob.client.delete(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert (await alice.client.get("/v1/auth/me")).status_code == 200
    assert len((await alice.client.get("/v1/auth/api-keys")).json()) == 1


async def test_errors_speak_the_users_language(sign_in: SignIn) -> None:
    english = await sign_in(locale="en")
    arabic = await sign_in(locale="ar")
    assert (await english.client.delete("/v1/auth/api-keys/nope")).json()["message"] == "Not found."
    assert (await arabic.client.delete("/v1/auth/api-keys/nope")).json()["message"] == "غير موجود."
    switched = await english.client.patch("/v1/auth/me", json={"locale": "ar", "name": "Lina"})
    assert switched.json()["locale"] == "ar" and switched.json()["name"] == "Lina"
    assert (await english.client.delete("/v1/auth/api-keys/nope")).json()["message"] == "غير موجود."


async def test_forged_or_foreign_tokens_are_refused(sign_in: SignIn, http: httpx.AsyncClient) -> None:
    import jwt

    me = await sign_in()
    claims = jwt.decode(me.token, options={"verify_signature": False})
    assert set(claims) == {"sub", "sid", "aud", "iat", "exp"}
    forged = jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    other = await sign_in()
    # correctly signed, but the session belongs to someone else than the claimed user
    swapped = jwt.encode({**claims, "sub": other.user_id}, TEST_SECRET, algorithm="HS256")
    for token in (forged, unsigned, swapped, me.token + "x", "pulse_deadbeef_" + "k" * 43):
        response = await http.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token
    assert (await me.client.get("/v1/auth/me")).status_code == 200
