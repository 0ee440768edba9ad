"""The model catalog: which chat models the studio offers, how they route and what they cost.

Token weights are studio tokens per provider token, from public list prices relative to each
other: the blended price (input + output per 1M tokens, halved) divided by gpt-5-mini's
($0.25 + $2.00) / 2 = $1.125. Billing uses ``studio_tokens``; pre-call estimates use
``estimate_input_tokens`` (local, no tokenizer: UTF-8 bytes / 4, plus 4 per message).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from core.errors import AppError
from core.settings import Settings

Provider = Literal["openai", "anthropic", "google"]
PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic", "google")
CAPABILITIES = frozenset({"stream", "vision", "json"})
DEFAULT_MODEL = "gpt-5-mini"


class ModelUnavailable(AppError):
    status_code = 422
    code = "model_unavailable"
    message = "The model {model} is not available."

    def __init__(self, model: str) -> None:
        super().__init__(model=model)
        self.model = model


@dataclass(frozen=True)
class ModelInfo:
    id: str
    provider: Provider
    display_name_ar: str
    display_name_en: str
    context_window: int
    max_output_tokens: int
    token_weight: float
    capabilities: frozenset[str]

    def display_name(self, locale: str | None) -> str:
        return self.display_name_en if locale == "en" else self.display_name_ar


ALL = frozenset({"stream", "vision", "json"})

MODELS: dict[str, ModelInfo] = {
    model.id: model
    for model in (
        ModelInfo("gpt-5", "openai", "جي بي تي 5", "GPT-5", 400_000, 128_000, 5.0, ALL),
        ModelInfo("gpt-5-mini", "openai", "جي بي تي 5 ميني", "GPT-5 mini", 400_000, 128_000, 1.0, ALL),
        ModelInfo("gpt-4o", "openai", "جي بي تي 4o", "GPT-4o", 128_000, 16_384, 5.56, ALL),
        ModelInfo(
            "claude-sonnet-4-5", "anthropic", "كلود سونيت 4.5", "Claude Sonnet 4.5", 200_000, 64_000, 8.0, ALL
        ),
        ModelInfo(
            "claude-haiku-4-5", "anthropic", "كلود هايكو 4.5", "Claude Haiku 4.5", 200_000, 64_000, 2.67, ALL
        ),
        ModelInfo(
            "gemini-2.5-pro", "google", "جيميناي 2.5 برو", "Gemini 2.5 Pro", 1_048_576, 65_536, 5.0, ALL
        ),
        ModelInfo(
            "gemini-2.5-flash", "google", "جيميناي 2.5 فلاش", "Gemini 2.5 Flash", 1_048_576, 65_536, 1.24, ALL
        ),
    )
}

# Routing by the seed's rules: an explicit ``provider:`` prefix, else the id's family.
PREFIXES: dict[str, Provider] = {"openai:": "openai", "anthropic:": "anthropic", "google:": "google"}
FAMILIES: dict[str, Provider] = {"gpt-": "openai", "claude": "anthropic", "gemini": "google"}


def route(model_id: str) -> tuple[Provider | None, str]:
    """The provider a model id routes to (``None`` if no rule matches) and the bare id."""
    value = model_id.strip()
    for prefix, provider in PREFIXES.items():
        if value.lower().startswith(prefix):
            return provider, value[len(prefix) :]
    for family, provider in FAMILIES.items():
        if value.lower().startswith(family):
            return provider, value
    return None, value


def provider_enabled(provider: Provider, settings: Settings) -> bool:
    enabled: bool = getattr(settings, f"{provider}_enabled")
    return enabled


def resolve_model(model_id: str, settings: Settings) -> ModelInfo:
    """The catalog entry for ``model_id`` (``gpt-4o`` or ``openai:gpt-4o``), if offered now."""
    provider, bare = route(model_id)
    model = MODELS.get(bare)
    if provider is None or model is None or model.provider != provider:
        raise ModelUnavailable(model_id)
    if not provider_enabled(provider, settings):
        raise ModelUnavailable(model_id)
    return model


def available_models(settings: Settings) -> list[ModelInfo]:
    """Models whose provider is enabled, in catalog order."""
    return [model for model in MODELS.values() if provider_enabled(model.provider, settings)]


def studio_tokens(model: ModelInfo, input_tokens: int, output_tokens: int) -> int:
    """Studio tokens charged for provider usage: ceil((input + output) × weight), exactly."""
    total = Decimal(input_tokens + output_tokens) * Decimal(str(model.token_weight))
    return int(total.to_integral_value(rounding=ROUND_CEILING))


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


def estimate_input_tokens(texts: Iterable[str]) -> int:
    """Local estimate of a prompt's input tokens (one text per message, system included)."""
    return sum(estimate_tokens(text) + 4 for text in texts)
