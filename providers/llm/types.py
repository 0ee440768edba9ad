"""Provider-neutral chat requests and stream events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    images: tuple[str, ...] = ()  # base64 data URLs ("data:image/png;base64,…"), after the text


@dataclass(frozen=True)
class ChatRequest:
    model: str  # a catalog id, optionally prefixed: "gpt-4o", "openai:gpt-4o"
    messages: list[ChatMessage]
    max_output_tokens: int
    json_schema: dict[str, Any] | None = None  # reply with a JSON instance of this schema
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()  # stop sequences


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0


ChatEvent = TextDelta | Usage


@dataclass(frozen=True)
class ModerationResult:
    flagged: bool
    categories: list[str] = field(default_factory=list)


def split_data_url(url: str) -> tuple[str, str]:
    """``data:image/png;base64,AAAA`` → ("image/png", "AAAA")."""
    header, _, data = url.partition(",")
    media_type = header.removeprefix("data:").split(";", 1)[0] or "application/octet-stream"
    return media_type, data
