"""The request of an OpenAI-API turn (``core.apiturns``) as a provider ``ChatRequest``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.apiturns import turn_request
from providers.llm import ChatMessage, ChatRequest, ImagePart


async def load_api_turn(
    session: AsyncSession, turn_id: str, model: str, max_output_tokens: int
) -> tuple[ChatRequest | None, list[tuple[str, str]]]:
    """The request and its (role, text) pairs (for moderation and the input estimate), or
    (None, []) once the turn's reply is stored (a retry after the store: nothing to ask)."""
    raw = await turn_request(session, turn_id)
    if raw is None:
        return None, []
    return to_chat_request(raw, model, max_output_tokens), _texts(raw)


def to_chat_request(raw: dict[str, Any], model: str, max_output_tokens: int) -> ChatRequest:
    messages = [
        ChatMessage(
            role=m["role"],
            content=m.get("content", ""),
            images=tuple(ImagePart.from_data_url(url) for url in m.get("images") or ()),
        )
        for m in raw["messages"]
    ]
    return ChatRequest(
        model=model,
        messages=messages,
        max_output_tokens=max_output_tokens,
        json_schema=raw.get("json_schema"),
        temperature=raw.get("temperature"),
        top_p=raw.get("top_p"),
        stop=tuple(raw.get("stop") or ()),
    )


def _texts(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Every message's text, the last user message last (moderation reads that one)."""
    pairs = [(m["role"], m.get("content", "")) for m in raw["messages"]]
    users = [pair for pair in pairs if pair[0] == "user"]
    return [*pairs, users[-1]] if users and pairs[-1] != users[-1] else pairs
