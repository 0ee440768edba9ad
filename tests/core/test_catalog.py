"""The model catalog: routing rules, availability and exact studio-token pricing."""

from __future__ import annotations

from datetime import date

import pytest

from core.catalog import (
    MODELS,
    ModelRetired,
    ModelUnavailable,
    available_models,
    estimate_input_tokens,
    offered_model,
    resolve_model,
    studio_tokens,
)
from core.i18n import translate
from core.settings import Env, Settings

REQUIRED = [
    "gpt-5",
    "gpt-5-mini",
    "gpt-4o",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
]


def test_catalog_has_the_required_models() -> None:
    assert set(REQUIRED) <= set(MODELS)
    for model in MODELS.values():
        assert model.display_name_ar != model.display_name_en and model.display_name_ar
        assert model.max_output_tokens < model.context_window and model.token_weight > 0
        assert {"stream", "json"} <= model.capabilities


@pytest.mark.parametrize(
    ("model_id", "provider", "bare"),
    [
        ("gpt-4o", "openai", "gpt-4o"),
        ("openai:gpt-5", "openai", "gpt-5"),
        ("claude-haiku-4-5", "anthropic", "claude-haiku-4-5"),
        ("anthropic:claude-sonnet-4-6", "anthropic", "claude-sonnet-4-6"),
        ("gemini-2.5-flash", "google", "gemini-2.5-flash"),
        ("google:gemini-2.5-pro", "google", "gemini-2.5-pro"),
    ],
)
def test_routing(model_id: str, provider: str, bare: str) -> None:
    model = resolve_model(model_id, Settings(env=Env.dev))
    assert model.provider == provider and model.id == bare


@pytest.mark.parametrize(
    "model_id", ["gpt-3.5-turbo", "llama-3", "anthropic:gpt-4o", "google:claude-haiku-4-5", ""]
)
def test_unknown_or_misrouted_models_are_unavailable(model_id: str) -> None:
    with pytest.raises(ModelUnavailable) as caught:
        resolve_model(model_id, Settings(env=Env.dev))
    assert caught.value.code == "model_unavailable" and caught.value.status_code == 422
    assert model_id in translate(caught.value.message, "ar", **caught.value.params)


def test_disabled_provider_hides_its_models() -> None:
    settings = Settings(env=Env.dev, google_enabled=False)
    with pytest.raises(ModelUnavailable):
        resolve_model("gemini-2.5-flash", settings)
    assert resolve_model("gpt-5", settings).provider == "openai"
    assert {m.provider for m in available_models(settings)} == {"openai", "anthropic"}


def test_studio_tokens_are_exact_ceilings() -> None:
    mini, flash, sonnet = MODELS["gpt-5-mini"], MODELS["gemini-2.5-flash"], MODELS["claude-sonnet-4-6"]
    assert studio_tokens(mini, 100, 20) == 120
    assert studio_tokens(flash, 100, 0) == 124  # 1.24 × 100, no float drift
    assert studio_tokens(flash, 1, 0) == 2  # ceil(1.24)
    assert studio_tokens(sonnet, 10, 5) == 120
    assert studio_tokens(MODELS["gpt-4o"], 0, 0) == 0
    # relative weights follow list prices: sonnet > gpt-5 > haiku > flash > mini
    weights = [
        MODELS[m].token_weight for m in ("claude-sonnet-4-6", "gpt-5", "claude-haiku-4-5", "gemini-2.5-flash")
    ]
    assert weights == sorted(weights, reverse=True) and mini.token_weight == 1.0


def test_input_estimate_counts_bytes() -> None:
    assert estimate_input_tokens(["abcd"]) == 1 + 4
    assert estimate_input_tokens(["مرحبا", "hi"]) == 3 + 4 + 1 + 4  # Arabic letters are 2 bytes


def test_a_retired_model_is_refused_for_new_turns_from_its_end_of_life_date() -> None:
    settings = Settings(env=Env.dev)
    eve, end = date(2026, 11, 29), date(2026, 11, 30)
    assert offered_model("claude-sonnet-4-5", settings, today=eve).id == "claude-sonnet-4-5"
    with pytest.raises(ModelRetired) as caught:
        offered_model("anthropic:claude-sonnet-4-5", settings, today=end)
    assert caught.value.code == "model_unavailable" and caught.value.status_code == 422
    arabic = translate(caught.value.message, "ar", **caught.value.params)
    assert "2026-11-30" in arabic and "اختر نموذجًا آخر" in arabic
    assert "claude-sonnet-4-5" in {m.id for m in available_models(settings, today=eve)}
    assert "claude-sonnet-4-5" not in {m.id for m in available_models(settings, today=end)}
    # a turn that started before the date still resolves its model while it finishes
    assert resolve_model("claude-sonnet-4-5", settings).id == "claude-sonnet-4-5"
    # its successor is offered at the same price
    assert MODELS["claude-sonnet-4-6"].token_weight == MODELS["claude-sonnet-4-5"].token_weight
    assert not MODELS["claude-sonnet-4-6"].retired(end)
