from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.conftest import SignedIn


async def test_sign_in_bearer_and_cookie(
    sign_in: Callable[..., Awaitable[SignedIn]], sign_in_cookie: Callable[..., Awaitable[SignedIn]]
) -> None:
    me = await sign_in()
    response = await me.client.get("/v1/auth/me")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == me.user_id
    browser = await sign_in_cookie(locale="en")
    response = await browser.client.get("/v1/auth/me")
    assert response.json()["locale"] == "en"
