"""The ledger's errors (4xx with a machine-readable code) and unit parsing."""

from __future__ import annotations

from core.errors import AppError, Conflict, NotFound, ValidationFailed
from core.plans import Unit


class QuotaExceeded(AppError):
    status_code = 402
    code = "quota_exceeded"
    message = "Not enough quota left: {available} available, {requested} requested."

    def __init__(self, *, unit: str, requested: int, available: int) -> None:
        super().__init__(unit=unit, requested=requested, available=available)
        self.unit = unit
        self.requested = requested
        self.available = available


class ReservationNotFound(NotFound):
    code = "reservation_not_found"
    message = "This reservation does not exist."


class InvalidAmount(ValidationFailed):
    code = "invalid_amount"
    message = "The amount must be a positive whole number."


class InvalidUnit(ValidationFailed):
    code = "invalid_unit"
    message = "Unknown unit: use tokens, images or videos."


def as_unit(value: Unit | str) -> Unit:
    try:
        return Unit(value)
    except ValueError:
        raise InvalidUnit() from None


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    message = "A reason is required."


class AdjustTooLarge(Conflict):
    code = "adjust_too_large"
    message = "Only {available} can be taken away."


class KeyInUse(Conflict):
    """An idempotency key already names another user's operation: refused, never answered with
    that operation's result (keys are scoped per user)."""

    code = "idempotency_key_conflict"
    message = "This idempotency key is already used by another operation."
