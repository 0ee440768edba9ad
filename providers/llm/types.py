"""Provider-neutral chat requests and stream events."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ImagePart:
    """An image sent with a message (for models whose catalog entry says ``vision``)."""

    media_type: str  # image/png, image/jpeg, image/webp, image/gif
    data: bytes

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode()}"


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str
    images: tuple[ImagePart, ...] = ()


@dataclass(frozen=True)
class ChatRequest:
    model: str  # a catalog id, optionally prefixed: "gpt-4o", "openai:gpt-4o"
    messages: list[ChatMessage]
    max_output_tokens: int
    json_schema: dict[str, Any] | None = None  # reply with a JSON instance of this schema
    temperature: float | None = None


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
