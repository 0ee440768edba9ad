"""Provider settings: emulator defaults in dev, real services and real keys in prod."""

from __future__ import annotations

import pytest

from core.settings import Env, Settings

LIVE_PAYMENTS = {
    "hyperpay_base_url": "https://eu-prod.oppwa.com",
    "hyperpay_access_token": "live-token-0123456789",
    "hyperpay_webhook_secret": "ab" * 32,
    "hyperpay_entity_id": "8ac9a4ca00000000000000000000live",
    "hyperpay_entity_id_mada": "",
    "email_backend": "ses",
}
PROD = {
    "env": Env.prod,
    "secret_key": "k" * 48,
    "database_url": "postgresql+asyncpg://u@h/db",
    **LIVE_PAYMENTS,
}
REAL_KEYS = {f"{p}_api_key": f"real-{p}-key-0123456789" for p in ("openai", "anthropic", "google")}


def test_dev_defaults_point_at_the_emulator() -> None:
    settings = Settings(env=Env.dev, emulator_port=9999)
    assert settings.openai_base_url == "http://127.0.0.1:9999/v1"
    assert settings.anthropic_base_url == settings.google_base_url == "http://127.0.0.1:9999"
    assert settings.moderation_enabled and settings.openai_enabled


def test_prod_defaults_are_the_real_services() -> None:
    with pytest.raises(ValueError, match="PULSE_OPENAI_API_KEY"):
        Settings(**PROD)  # type: ignore[arg-type]  # the dev placeholder keys are refused
    settings = Settings(**PROD, **REAL_KEYS)  # type: ignore[arg-type]
    assert settings.openai_base_url == "https://api.openai.com/v1"
    assert settings.anthropic_base_url == "https://api.anthropic.com"
    assert "emulator" not in repr(settings.openai_api_key)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
def test_prod_refuses_an_enabled_provider_with_a_placeholder_key(provider: str) -> None:
    keys = {**REAL_KEYS, f"{provider}_api_key": "changeme"}
    with pytest.raises(ValueError, match=f"PULSE_{provider.upper()}_API_KEY"):
        Settings(**PROD, **keys)  # type: ignore[arg-type]
    disabled = {**REAL_KEYS, f"{provider}_api_key": "", f"{provider}_enabled": False}
    assert Settings(**PROD, **disabled).env == Env.prod  # type: ignore[arg-type]
