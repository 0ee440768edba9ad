from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import Env, Settings, load_settings


def run_pulse(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from core.settings import load_settings; load_settings()"],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dev_defaults_are_the_embedded_stack() -> None:
    settings = Settings(env=Env.dev)
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.temporal_address == "127.0.0.1:7233"
    assert settings.http_port == 8000 and settings.temporal_ui_port == 8233
    assert settings.redis_url == ""


def test_unknown_setting_stops_with_one_line() -> None:
    result = run_pulse({"PULSE_DATABSE_URL": "x"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pulse: invalid setting: PULSE_DATABSE_URL: unknown setting"
    ]


def test_malformed_setting_names_the_variable() -> None:
    result = run_pulse({"PULSE_HTTP_PORT": "eighty"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PULSE_HTTP_PORT" in lines[0] and "integer" in lines[0]


def test_bad_database_url_is_refused() -> None:
    result = run_pulse({"PULSE_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2
    assert "PULSE_DATABASE_URL" in result.stderr


@pytest.mark.parametrize("secret", ["changeme", "short"])
def test_prod_refuses_placeholder_secrets(secret: str) -> None:
    result = run_pulse(
        {
            "PULSE_ENV": "prod",
            "PULSE_SECRET_KEY": secret,
            "PULSE_DATABASE_URL": "postgresql+asyncpg://u@h/db",
        }
    )
    assert result.returncode == 2
    assert "PULSE_SECRET_KEY" in result.stderr


def test_prod_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSE_ENV", "prod")
    monkeypatch.setenv("PULSE_SECRET_KEY", "k" * 48)
    monkeypatch.setenv("PULSE_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    for provider in ("OPENAI", "ANTHROPIC", "GOOGLE"):
        monkeypatch.setenv(f"PULSE_{provider}_API_KEY", f"real-{provider.lower()}-key-0123456789")
    set_live_payments(monkeypatch)
    settings = load_settings()
    assert settings.env == Env.prod and not settings.is_dev


def set_live_payments(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HyperPay and email settings prod refuses to start without."""
    from tests.providers.test_settings import LIVE_PAYMENTS

    for name, value in LIVE_PAYMENTS.items():
        monkeypatch.setenv(f"PULSE_{name.upper()}", value)


def test_an_unset_environment_is_prod_and_refuses_dev_defaults() -> None:
    """#15 item 10: without PULSE_ENV nothing runs in a dev mode: the dev secret is refused."""
    result = run_pulse({})
    assert result.returncode == 2 and "PULSE_SECRET_KEY" in result.stderr
    assert Settings(env=Env.dev).is_dev and not Settings.model_fields["env"].default == Env.dev


def test_prod_refuses_the_emulator_for_payments_and_the_outbox_for_email(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = {
        "PULSE_ENV": "prod",
        "PULSE_SECRET_KEY": "k" * 48,
        "PULSE_DATABASE_URL": "postgresql+asyncpg://u@h/db",
    }
    disabled = {f"PULSE_{p}_ENABLED": "false" for p in ("OPENAI", "ANTHROPIC", "GOOGLE")}
    no_hyperpay = run_pulse({**base, **disabled, "PULSE_EMAIL_BACKEND": "ses"})
    assert no_hyperpay.returncode == 2 and "PULSE_HYPERPAY_BASE_URL" in no_hyperpay.stderr
    from tests.providers.test_settings import LIVE_PAYMENTS

    live = {f"PULSE_{k.upper()}": v for k, v in LIVE_PAYMENTS.items()}
    outbox = run_pulse({**base, **disabled, **live, "PULSE_EMAIL_BACKEND": "outbox"})
    assert outbox.returncode == 2 and "PULSE_EMAIL_BACKEND" in outbox.stderr
    assert run_pulse({**base, **disabled, **live}).returncode == 0
