"""Payment errors (each with its HTTP status and machine-readable code) and the
``Idempotency-Key`` check every money-moving request goes through."""

from __future__ import annotations

import re

from core.errors import AppError, Conflict, NotFound, ValidationFailed


class UnknownItem(ValidationFailed):
    code = "unknown_item"
    message = "This item cannot be bought."


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    message = "This payment does not exist."


class RetryNotPossible(Conflict):
    code = "retry_not_possible"
    message = "This payment cannot be retried now."


class NoSubscription(Conflict):
    code = "no_subscription"
    message = "You have no paid subscription."


class ChangeInProgress(Conflict):
    code = "change_in_progress"
    message = "A plan change is already in progress. Please wait for it to finish."


class IdempotencyKeyRequired(AppError):
    status_code = 400
    code = "idempotency_key_required"
    message = "Send an Idempotency-Key header (1 to 64 letters, digits, '-' or '_')."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for another request."


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def idempotency_key(value: str | None) -> str:
    """The client's ``Idempotency-Key`` for a money-moving request (required, validated)."""
    if not value or not IDEMPOTENCY_KEY.match(value):
        raise IdempotencyKeyRequired()
    return value


class InvalidWebhook(AppError):
    status_code = 400
    code = "invalid_webhook"
    message = "The notification could not be verified."


class PaymentUnavailable(AppError):
    status_code = 503
    code = "payment_unavailable"
    message = "Payments are temporarily unavailable. Please try again shortly."
