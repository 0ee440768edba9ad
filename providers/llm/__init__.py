"""Chat models behind one interface: OpenAI, Anthropic and Google through their official SDKs."""

from providers.llm.client import LLMClient
from providers.llm.errors import NonRetryableProviderError, ProviderError, RetryableProviderError
from providers.llm.types import (
    ChatEvent,
    ChatMessage,
    ChatRequest,
    ImagePart,
    ModerationResult,
    TextDelta,
    Usage,
)

__all__ = [
    "ChatEvent",
    "ChatMessage",
    "ChatRequest",
    "ImagePart",
    "LLMClient",
    "ModerationResult",
    "NonRetryableProviderError",
    "ProviderError",
    "RetryableProviderError",
    "TextDelta",
    "Usage",
]
