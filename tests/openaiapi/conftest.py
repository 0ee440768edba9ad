"""The OpenAI-compatible API driven by the official ``openai`` SDK (and LiteLLM's) against the
real app: PostgreSQL, Redis, the Temporal dev server and the provider emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import openai
import pytest_asyncio
from sqlalchemy import select

from core import ledger, subscriptions
from core.db import Database
from core.models import LedgerReservation
from tests.conftest import SignedIn


@dataclass
class KeyUser:
    me: SignedIn
    key_id: str
    key: str
    sdk: openai.AsyncOpenAI  # the official SDK with this key, base_url <api>/openai/v1

    async def usage(self) -> dict[str, Any]:
        response = await self.me.client.get(f"/v1/auth/api-keys/{self.key_id}/usage")
        assert response.status_code == 200, response.text
        return dict(response.json())


def sdk_for(api_url: str, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key=key, base_url=f"{api_url}/openai/v1", max_retries=0, timeout=30)


@pytest_asyncio.fixture
async def key_user(
    sign_in: Callable[..., Awaitable[SignedIn]], api_url: str
) -> AsyncIterator[Callable[..., Awaitable[KeyUser]]]:
    """``await key_user(locale="ar", **limits)``: a signed-in user with a fresh personal key."""
    made: list[openai.AsyncOpenAI] = []

    async def _make(locale: str = "ar", **limits: Any) -> KeyUser:
        me = await sign_in(locale=locale)
        response = await me.client.post("/v1/auth/api-keys", json={"name": "sdk", **limits})
        assert response.status_code == 201, response.text
        body = response.json()
        sdk = sdk_for(api_url, body["key"])
        made.append(sdk)
        return KeyUser(me, body["id"], body["key"], sdk)

    yield _make
    for sdk in made:
        await sdk.close()


async def reservation(db: Database, turn_id: str) -> LedgerReservation:
    async with db.reader() as session:
        found = (
            await session.execute(
                select(LedgerReservation).where(LedgerReservation.key == f"chat-turn-{turn_id}")
            )
        ).scalar_one()
    return found


async def tokens(db: Database, user_id: str) -> Any:
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
        return (await ledger.usage(session, user_id)).units["tokens"]


async def leave_only(db: Database, user_id: str, *, left: int) -> None:
    """Support-adjust the user's tokens so that exactly ``left`` remain."""
    available = (await tokens(db, user_id)).remaining
    async with db.session() as session:
        await ledger.adjust(
            session,
            user_id=user_id,
            unit="tokens",
            delta=-(available - left),
            actor_id=user_id,
            reason="test: leave only a little",
            key=f"drain-{user_id}",
        )


def turn_id_of(completion_id: str) -> str:
    return completion_id.removeprefix("chatcmpl-")
