"""Pure parts of the HyperPay client: result-code classes, amounts, webhook decryption."""

from __future__ import annotations

import json

import pytest

from emulator.hyperpay import encrypt
from providers.payments.hyperpay import (
    InvalidAmount,
    ResultClass,
    WebhookDecryptionError,
    classify,
    decrypt_webhook,
    format_amount,
    is_hard_decline,
    parse_amount,
)

VECTOR_KEY = "000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f"
VECTOR_IV = "000000000000000000000000"
VECTOR_TAG = "CE573FB7A41AB78E743180DC83FF09BD"
VECTOR_BODY = "0A3471C72D9BE49A8520F79C66BBD9A12FF9"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("000.000.000", ResultClass.success),
        ("000.100.110", ResultClass.success),
        ("000.300.000", ResultClass.success),
        ("000.400.110", ResultClass.success),
        ("000.400.000", ResultClass.manual_review),
        ("000.400.100", ResultClass.manual_review),
        ("000.200.000", ResultClass.pending),
        ("000.200.100", ResultClass.pending),
        ("800.400.500", ResultClass.pending),
        ("100.400.500", ResultClass.pending),
        ("900.100.300", ResultClass.temporary),
        ("000.400.030", ResultClass.temporary),
        ("800.120.100", ResultClass.temporary),
        ("999.999.999", ResultClass.temporary),
        ("800.800.800", ResultClass.temporary),
        ("800.100.152", ResultClass.rejected),
        ("800.110.100", ResultClass.rejected),
        ("000.400.101", ResultClass.rejected),
        ("200.300.404", ResultClass.rejected),
        ("700.400.580", ResultClass.rejected),
        ("100.396.101", ResultClass.rejected),
    ],
)
def test_classify_uses_the_official_groups(code: str, expected: ResultClass) -> None:
    assert classify(code) is expected


def test_hard_declines() -> None:
    assert is_hard_decline("800.100.152") and is_hard_decline("800.700.100")
    assert not is_hard_decline("900.100.300") and not is_hard_decline("000.100.110")


def test_amounts_are_two_decimals_from_integer_fils() -> None:
    assert format_amount(3000) == "3.00"
    assert format_amount(1050) == "1.05"
    assert format_amount(10) == "0.01"
    assert format_amount(123456780) == "123456.78"
    assert parse_amount("3.00") == 3000 and parse_amount("14") == 14000 and parse_amount("1.05") == 1050


@pytest.mark.parametrize("fils", [3005, 1, 0, -10])
def test_amounts_that_would_need_rounding_are_refused(fils: int) -> None:
    with pytest.raises(InvalidAmount):
        format_amount(fils)


def test_reference_test_vector_decrypts() -> None:
    assert decrypt_webhook(VECTOR_KEY, VECTOR_IV, VECTOR_TAG, VECTOR_BODY) == {"type": "PAYMENT"}
    wrapped = json.dumps({"encryptedBody": VECTOR_BODY}).encode()
    assert decrypt_webhook(VECTOR_KEY, VECTOR_IV, VECTOR_TAG.lower(), wrapped) == {"type": "PAYMENT"}


@pytest.mark.parametrize(
    ("key", "iv", "tag", "body"),
    [
        (VECTOR_KEY, VECTOR_IV, VECTOR_TAG, "0B" + VECTOR_BODY[2:]),  # tampered body
        (VECTOR_KEY, VECTOR_IV, "DE" + VECTOR_TAG[2:], VECTOR_BODY),  # tampered tag
        (VECTOR_KEY, "0" * 23 + "1", VECTOR_TAG, VECTOR_BODY),  # other IV
        ("11" * 32, VECTOR_IV, VECTOR_TAG, VECTOR_BODY),  # other key
        (VECTOR_KEY, VECTOR_IV, "", VECTOR_BODY),  # missing header
        (VECTOR_KEY, VECTOR_IV, VECTOR_TAG, "not hex"),
    ],
)
def test_tampered_webhooks_are_refused(key: str, iv: str, tag: str, body: str) -> None:
    with pytest.raises(WebhookDecryptionError):
        decrypt_webhook(key, iv, tag, body)


def test_emulator_encryption_round_trips_and_matches_the_vector() -> None:
    body, iv, tag = encrypt(VECTOR_KEY, b'{"type":"PAYMENT"}', bytes(12))
    assert (body, iv, tag) == (VECTOR_BODY, VECTOR_IV, VECTOR_TAG)
    body, iv, tag = encrypt(VECTOR_KEY, json.dumps({"text": "مرحبا"}).encode())
    assert decrypt_webhook(VECTOR_KEY, iv, tag, body) == {"text": "مرحبا"}


def test_payment_settings_default_to_the_emulator_and_refuse_dev_secrets_for_real_hosts() -> None:
    from pydantic import ValidationError

    from core.settings import Env, Settings

    settings = Settings(env=Env.dev, emulator_port=9911)
    assert settings.hyperpay_base_url == "http://127.0.0.1:9911/hyperpay"
    with pytest.raises(ValidationError, match="64 hex"):
        Settings(env=Env.dev, hyperpay_webhook_secret="abc")
    real = {
        "env": Env.prod,
        "secret_key": "s" * 40,
        "database_url": "postgresql+asyncpg://u@h/d",
        **{f"{name}_enabled": False for name in ("openai", "anthropic", "google")},
        "email_backend": "ses",
    }
    with pytest.raises(ValidationError, match="HYPERPAY_ACCESS_TOKEN"):
        Settings(**real, hyperpay_base_url="https://eu-prod.oppwa.com/")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="PULSE_HYPERPAY_BASE_URL"):  # never the emulator in prod
        Settings(**real, hyperpay_access_token="live-token", hyperpay_webhook_secret="ab" * 32)  # type: ignore[arg-type]
    live = Settings(
        **real,  # type: ignore[arg-type]
        hyperpay_base_url="https://eu-prod.oppwa.com/",
        hyperpay_access_token="live-token",
        hyperpay_webhook_secret="ab" * 32,
        hyperpay_entity_id="8ac9a4ca00000000000000000000live",
        hyperpay_entity_id_mada="",
    )
    assert live.hyperpay_base_url == "https://eu-prod.oppwa.com"
