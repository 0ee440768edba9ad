"""Replicate webhook verification, a pure function over headers, raw body and secret.

Replicate signs like Svix: ``webhook-signature`` lists ``v1,<base64 HMAC-SHA256>`` over
``"{webhook-id}.{webhook-timestamp}.{body}"`` keyed with the base64 part of ``whsec_…``. The
official SDK's ``Webhooks.validate`` does the cryptography; we add the reason codes and refuse
timestamps older (or further in the future) than the tolerance.
"""

from __future__ import annotations

import time
from collections.abc import Mapping


class WebhookRejected(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # missing_headers | stale | bad_signature | bad_secret


REQUIRED = ("webhook-id", "webhook-timestamp", "webhook-signature")


def verify_replicate_webhook(
    headers: Mapping[str, str], body: bytes, secret: str, *, tolerance: int = 300, now: float | None = None
) -> str:
    """The webhook id of a genuine delivery; raises ``WebhookRejected`` otherwise."""
    from replicate.webhook import (
        InvalidSecretKeyError,
        InvalidSignatureError,
        Webhooks,
        WebhookSigningSecret,
        WebhookValidationError,
    )

    lowered = {key.lower(): value for key, value in headers.items()}
    if any(not lowered.get(name) for name in REQUIRED) or not body:
        raise WebhookRejected("missing_headers")
    try:
        stamp = int(lowered["webhook-timestamp"])
    except ValueError:
        raise WebhookRejected("stale") from None
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        raise WebhookRejected("stale")
    try:
        Webhooks.validate(
            headers=dict(lowered),
            body=body.decode("utf-8"),
            secret=WebhookSigningSecret(key=secret),
        )
    except InvalidSecretKeyError:
        raise WebhookRejected("bad_secret") from None
    except (InvalidSignatureError, WebhookValidationError, ValueError, UnicodeDecodeError):
        raise WebhookRejected("bad_signature") from None
    return lowered["webhook-id"]
