"""A payment reaching its final result (3-D Secure / acquirer pending resolving, a card stored
for recurring use) and the encrypted AES-256-GCM notification HyperPay then sends, with retries."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from emulator.hyperpay.state import OUTCOMES, Payment, Registration, now_stamp, state


def finish(payment: Payment) -> None:
    """A card payment reached its final result: store the card if asked, send the webhook."""
    if payment.code == OUTCOMES["success"][0] and payment.extra.get("createRegistration") == "true":
        registration = Registration(
            id=secrets.token_hex(16),
            entity_id=payment.entity_id,
            brand=payment.brand,
            card_number=payment.card_number,
            holder=payment.holder,
            initial_payment_id=payment.id,
        )
        state.registrations[registration.id] = registration
        payment.registration_id = registration.id
    schedule_webhook(payment)


def resolve_pending(payment: Payment) -> None:
    if payment.code == OUTCOMES["pending"][0]:
        payment.code, payment.description = OUTCOMES["success"]
        payment.timestamp = now_stamp()
        finish(payment)


async def resolve_later(payment: Payment) -> None:
    await asyncio.sleep(state.config.pending_seconds)
    resolve_pending(payment)


def encrypt(secret_hex: str, plaintext: bytes, iv: bytes | None = None) -> tuple[str, str, str]:
    """(body, iv, tag) as HyperPay sends them: upper-case hex."""
    iv = iv or os.urandom(12)
    sealed = AESGCM(bytes.fromhex(secret_hex)).encrypt(iv, plaintext, None)
    return sealed[:-16].hex().upper(), iv.hex().upper(), sealed[-16:].hex().upper()


def schedule_webhook(payment: Payment) -> None:
    config = state.config
    if config.webhook_url and config.webhook_secret:
        state.spawn(
            deliver(payment.as_json(), config.webhook_url, config.webhook_secret, config.webhook_delay)
        )


async def deliver(payload: dict[str, Any], url: str, secret_hex: str, delay: float = 0.0) -> None:
    """POST the encrypted notification, retrying with backoff until a 2xx."""
    if delay:
        await asyncio.sleep(delay)
    body, iv, tag = encrypt(secret_hex, json.dumps({"type": "PAYMENT", "payload": payload}).encode())
    headers = {"X-Initialization-Vector": iv, "X-Authentication-Tag": tag, "Content-Type": "text/plain"}
    delays = [0.0, *state.config.retry_delays]
    async with httpx.AsyncClient(timeout=30) as client:
        for attempt, wait in enumerate(delays, start=1):
            await asyncio.sleep(wait)
            record: dict[str, Any] = {"payment_id": payload["id"], "attempt": attempt, "status": 0}
            try:
                response = await client.post(url, content=body, headers=headers)
                record["status"] = status = response.status_code
            except httpx.HTTPError as error:
                status = 0
                record["error"] = type(error).__name__
            state.deliveries.append(record)
            if 200 <= status < 300:
                return
