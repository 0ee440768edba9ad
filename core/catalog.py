"""The model catalog: which chat models the studio offers, how they route and what they cost.

Token weights are studio tokens per provider token, from public list prices relative to each
other: the blended price (input + output per 1M tokens, halved) divided by gpt-5-mini's
($0.25 + $2.00) / 2 = $1.125. Billing uses ``studio_tokens``; pre-call estimates use
``estimate_input_tokens`` (local, no tokenizer: UTF-8 bytes / 4, plus 4 per message).

A model with ``retires_on`` (the provider's end-of-life date) is offered until the day before:
from that day new turns are refused with ``model_unavailable`` and it leaves the model lists,
while a turn already running finishes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
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

    def __init__(self, model: str, message: str | None = None, **params: object) -> None:
        super().__init__(message, model=model, **params)
        self.model = model


class ModelRetired(ModelUnavailable):
    message = "The model {model} was retired on {date}. Choose another model."

    def __init__(self, model: str, retired_on: date) -> None:
        super().__init__(model, self.message, date=retired_on.isoformat())


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
    retires_on: date | None = None  # the provider's end-of-life date

    def display_name(self, locale: str | None) -> str:
        return self.display_name_en if locale == "en" else self.display_name_ar

    def retired(self, today: date | None = None) -> bool:
        return self.retires_on is not None and (today or utc_today()) >= self.retires_on


ALL = frozenset({"stream", "vision", "json"})

MODELS: dict[str, ModelInfo] = {
    model.id: model
    for model in (
        ModelInfo("gpt-5", "openai", "جي بي تي 5", "GPT-5", 400_000, 128_000, 5.0, ALL),
        ModelInfo("gpt-5-mini", "openai", "جي بي تي 5 ميني", "GPT-5 mini", 400_000, 128_000, 1.0, ALL),
        ModelInfo("gpt-4o", "openai", "جي بي تي 4o", "GPT-4o", 128_000, 16_384, 5.56, ALL),
        ModelInfo(
            "claude-sonnet-4-6", "anthropic", "كلود سونيت 4.6", "Claude Sonnet 4.6", 200_000, 64_000, 8.0, ALL
        ),
        ModelInfo(
            "claude-sonnet-4-5",
            "anthropic",
            "كلود سونيت 4.5",
            "Claude Sonnet 4.5",
            200_000,
            64_000,
            8.0,
            ALL,
            retires_on=date(2026, 11, 30),  # Anthropic's end of life (anthropic SDK's deprecation list)
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
    """The catalog entry for ``model_id`` (``gpt-4o`` or ``openai:gpt-4o``), if its provider is
    enabled. Retirement is checked only where a turn starts (``offered_model``)."""
    provider, bare = route(model_id)
    model = MODELS.get(bare)
    if provider is None or model is None or model.provider != provider:
        raise ModelUnavailable(model_id)
    if not provider_enabled(provider, settings):
        raise ModelUnavailable(model_id)
    return model


def offered_model(model_id: str, settings: Settings, today: date | None = None) -> ModelInfo:
    """``resolve_model`` for a new turn: a retired model is refused as well."""
    model = resolve_model(model_id, settings)
    if model.retires_on is not None and model.retired(today):
        raise ModelRetired(model_id, model.retires_on)
    return model


def available_models(settings: Settings, today: date | None = None) -> list[ModelInfo]:
    """Models offered for new turns (provider enabled, not retired), in catalog order."""
    return [
        model
        for model in MODELS.values()
        if provider_enabled(model.provider, settings) and not model.retired(today)
    ]


# What a turn reserves when the request names no ``max_tokens``: what a reply plausibly uses,
# not the model's maximum (128k for GPT-5 held the whole balance during every reply). A model
# may get its own default here (none does yet: 8,192 for the reasoning models made the
# emulator's replies, and so the tests, slower). A request may ask for up to ``max_output_tokens``.
DEFAULT_OUTPUT_TOKENS = 4096
DEFAULT_OUTPUT_BY_MODEL: dict[str, int] = {}


def default_output_tokens(model: ModelInfo) -> int:
    """The output cap (and so the reservation) of a turn that asks for none."""
    return min(DEFAULT_OUTPUT_BY_MODEL.get(model.id, DEFAULT_OUTPUT_TOKENS), model.max_output_tokens)


def utc_today() -> date:
    return datetime.now(UTC).date()


def studio_tokens(model: ModelInfo, input_tokens: int, output_tokens: int) -> int:
    """Studio tokens charged for provider usage: ceil((input + output) × weight), exactly."""
    total = Decimal(input_tokens + output_tokens) * Decimal(str(model.token_weight))
    return int(total.to_integral_value(rounding=ROUND_CEILING))


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


def estimate_input_tokens(texts: Iterable[str]) -> int:
    """Local estimate of a prompt's input tokens (one text per message, system included)."""
    return sum(estimate_tokens(text) + 4 for text in texts)
