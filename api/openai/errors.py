"""OpenAI-shaped errors: ``{"error": {"message", "type", "param", "code"}}``, the message in the
caller's language (the key owner's, once the key is known).

Every error of the ``/openai`` sub-application goes through here, our own ``AppError``\\s too,
so an OpenAI client always gets the shape it parses. Quota and budget refusals carry
``x-should-retry: false``: the official SDKs would otherwise retry a 429 that cannot succeed.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.errors import OUTAGE_TYPES, dependency_down
from api.i18n import request_locale
from core.errors import AppError, RateLimited, Unauthorized, Unavailable
from core.i18n import translate
from core.outages import ServiceUnavailable

log = structlog.get_logger(__name__)

INVALID_REQUEST = "invalid_request_error"
NO_RETRY = {"x-should-retry": "false"}


class OpenAIError(Exception):
    """An error answered in OpenAI's shape; ``message`` is an English msgid with ``params``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = INVALID_REQUEST,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.headers = headers or {}
        self.params = params


def unsupported(param: str) -> OpenAIError:
    return OpenAIError(
        400,
        "Unsupported parameter: '{param}' is not supported by this API.",
        code="unsupported_parameter",
        param=param,
    )


def invalid(param: str, message: str, **params: Any) -> OpenAIError:
    return OpenAIError(400, message, code="invalid_value", param=param, **params)


def check_parameters(
    body: dict[str, Any], supported: set[str], defaults_only: dict[str, tuple[object, ...]]
) -> None:
    """400 ``unsupported_parameter`` for a parameter we don't take (``defaults_only``: taken only
    at its default value; a ``null`` counts as not sent)."""
    for name, value in body.items():
        if value is None or name in supported:
            continue
        if name in defaults_only and value in defaults_only[name]:
            continue
        raise unsupported(name)


def model_not_found(model_id: str) -> OpenAIError:
    return OpenAIError(
        404,
        "The model '{model}' does not exist or you do not have access to it.",
        code="model_not_found",
        param="model",
        model=model_id,
    )


def model_not_allowed(model_id: str) -> OpenAIError:
    return OpenAIError(
        403,
        "This API key is not allowed to use the model '{model}'.",
        code="model_not_allowed",
        param="model",
        model=model_id,
    )


def body(message: str, type: str, code: str | None, param: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def render(request: Request, error: OpenAIError) -> JSONResponse:
    message = translate(error.message, request_locale(request), **error.params)
    return JSONResponse(
        body(message, error.type, error.code, error.param), status_code=error.status, headers=error.headers
    )


# Our AppErrors by code (status, type, OpenAI code); the rest keep their status and code.
APP_ERRORS: dict[str, tuple[int, str, str]] = {
    "quota_exceeded": (429, "insufficient_quota", "insufficient_quota"),
    "budget_exceeded": (429, "insufficient_quota", "budget_exceeded"),
    "model_unavailable": (404, INVALID_REQUEST, "model_not_found"),
    "moderation_blocked": (400, INVALID_REQUEST, "content_policy_violation"),
    "provider_error": (502, "server_error", "provider_error"),
    "invalid_image_request": (400, INVALID_REQUEST, "invalid_value"),
    "invalid_image_file": (400, INVALID_REQUEST, "invalid_image_file"),
}


def from_app_error(error: AppError) -> OpenAIError:
    status, kind, code = APP_ERRORS.get(error.code, (error.status_code, "", error.code))
    headers: dict[str, str] = {}
    if isinstance(error, Unauthorized):
        kind, code = INVALID_REQUEST, "invalid_api_key"
    elif isinstance(error, RateLimited):
        kind, code = "requests", "rate_limit_exceeded"
        headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, ServiceUnavailable):
        kind, code = "server_error", "service_unavailable"
        headers["Retry-After"] = str(ServiceUnavailable.retry_after)
    elif isinstance(error, Unavailable):
        kind, code = "server_error", "service_unavailable"
        headers["Retry-After"] = "1"
    if kind == "insufficient_quota":
        headers.update(NO_RETRY)
    kind = kind or (INVALID_REQUEST if status < 500 else "server_error")
    converted = OpenAIError(status, error.message, type=kind, code=code, headers=headers, **error.params)
    param = getattr(error, "param", None)
    converted.param = param if isinstance(param, str) else ("model" if code == "model_not_found" else None)
    return converted


async def handle_openai_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OpenAIError)
    return render(request, error)


async def handle_app_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AppError)
    return render(request, from_app_error(error))


HTTP_MESSAGES = {
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request is too large.",
}


async def handle_http(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    message = HTTP_MESSAGES.get(error.status_code, "The request could not be processed.")
    code = {404: "unknown_url", 405: "method_not_allowed"}.get(error.status_code)
    return render(request, OpenAIError(error.status_code, message, code=code))


async def handle_outage(request: Request, error: Exception) -> Response:
    """PostgreSQL, Redis or Temporal down: 503 ``service_unavailable`` + Retry-After, never 500."""
    if not dependency_down(error):
        return await handle_unexpected(request, error)
    log.warning("openai_api.outage", error_type=type(error).__name__, error=str(error)[:200])
    return render(request, from_app_error(ServiceUnavailable()))


async def handle_unexpected(request: Request, error: Exception) -> Response:
    log.exception("openai_api.failed", error_type=type(error).__name__)
    message = "Something went wrong on our side. Please try again."
    return render(request, OpenAIError(500, message, type="server_error", code="internal_error"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(OpenAIError, handle_openai_error)
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(StarletteHTTPException, handle_http)
    for outage_type in OUTAGE_TYPES:
        app.add_exception_handler(outage_type, handle_outage)
    app.add_exception_handler(Exception, handle_unexpected)
