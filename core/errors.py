"""Typed domain errors. Each carries an HTTP status, a machine-readable code and a message key
that ``core.i18n`` turns into the caller's language. Services raise these, never HTTP errors."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, **params: Any) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.params = params


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Sign in to continue."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "This conflicts with the current state."


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"
    message = "Some fields are missing or invalid."


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests. Try again in {retry_after} seconds."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(AppError):
    status_code = 503
    code = "unavailable"
    message = "The service is temporarily unavailable."
