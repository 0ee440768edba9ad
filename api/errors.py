"""One place that turns errors into JSON ``{code, message}`` in the caller's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.i18n import request_locale
from core.errors import AppError, RateLimited
from core.i18n import translate
from core.outages import RETRY_AFTER_S, ServiceUnavailable, is_outage

log = structlog.get_logger(__name__)

# (request, status, message msgid, params) -> an HTML page, or None when the request wants JSON.
# The app factory passes the web package's renderer to ``install`` (api never imports web).
HtmlErrors = Callable[[Request, int, str, dict[str, Any]], Response | None]

HTTP_CODES = {
    400: ("bad_request", "The request could not be processed."),
    401: ("unauthorized", "Sign in to continue."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request is too large."),
    415: ("unsupported_media_type", "This content type is not supported."),
}


def error_body(code: str, message: str, request: Request, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return body


def html_page(request: Request, status_code: int, message: str, **params: Any) -> Response | None:
    render: HtmlErrors | None = getattr(request.app.state, "html_errors", None)
    return render(request, status_code, message, params) if render else None


async def handle_app_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, AppError)
    locale = request_locale(request)
    message = translate(error.message, locale, **error.params)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, RateLimited) else None
    if error.status_code == 503:  # every "try again later" says when
        headers = {"Retry-After": str(getattr(error, "retry_after", RETRY_AFTER_S))}
    page = html_page(request, error.status_code, error.message, **error.params)
    if page is not None:
        page.headers.update(headers or {})
        return page
    return JSONResponse(
        error_body(error.code, message, request), status_code=error.status_code, headers=headers
    )


async def handle_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    locale = request_locale(request)
    fields = [
        {"field": ".".join(str(p) for p in item.get("loc", ()) if p != "body"), "type": item.get("type")}
        for item in error.errors()
    ]
    message = translate("Some fields are missing or invalid.", locale)
    return JSONResponse(error_body("validation_error", message, request, fields=fields), status_code=422)


async def handle_http(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    code, default = HTTP_CODES.get(error.status_code, ("error", "The request could not be processed."))
    page = html_page(request, error.status_code, default)
    if page is not None:
        return page
    message = translate(default, request_locale(request))
    return JSONResponse(
        error_body(code, message, request),
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


async def handle_unexpected(request: Request, error: Exception) -> Response:
    log.exception("request.failed", error_type=type(error).__name__)
    page = html_page(request, 500, "Something went wrong on our side. Please try again.")
    if page is not None:
        return page
    message = translate("Something went wrong on our side. Please try again.", request_locale(request))
    return JSONResponse(error_body("internal_error", message, request), status_code=500)


# Temporal answers these while it restarts or is unreachable.
TEMPORAL_OUTAGES = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)
# Registered by class so that Starlette's ExceptionMiddleware answers them: the catch-all
# ``Exception`` handler runs in ServerErrorMiddleware, which re-raises to uvicorn afterwards
# (logged as a crash, keep-alive connection closed).
OUTAGE_TYPES: tuple[type[Exception], ...] = (
    OSError,
    DBAPIError,
    PoolTimeout,
    RedisError,
    RPCError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
)


def dependency_down(error: Exception) -> bool:
    """PostgreSQL, Redis or Temporal unreachable or restarting (an ``OUTAGE_TYPES`` error)."""
    temporal_down = isinstance(error, RPCError) and error.status in TEMPORAL_OUTAGES
    return temporal_down or (not isinstance(error, RPCError) and is_outage(error))


# Text PostgreSQL cannot store (a NUL byte, ``%00`` in a path or ``\u0000`` in JSON): bad input.
UNSTORABLE_TEXT = frozenset({"22021", "22P05"})  # character_not_in_repertoire, untranslatable_character
UNSTORABLE_MESSAGE = "The text contains a character that cannot be stored (such as a NUL byte)."


def unstorable_text(error: Exception) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in UNSTORABLE_TEXT


async def handle_outage(request: Request, error: Exception) -> Response:
    """PostgreSQL, Redis or Temporal unreachable: 503 ``service_unavailable`` + Retry-After; text
    PostgreSQL cannot store: 422 ``invalid_text`` (the transaction is rolled back); any other
    error of these types is a bug (500), answered without reaching uvicorn."""
    if unstorable_text(error):
        message = translate(UNSTORABLE_MESSAGE, request_locale(request))
        return JSONResponse(error_body("invalid_text", message, request), status_code=422)
    if not dependency_down(error):
        return await handle_unexpected(request, error)
    log.warning("request.outage", error_type=type(error).__name__, error=str(error)[:200])
    return await handle_app_error(request, ServiceUnavailable())


def install(app: FastAPI, html_errors: HtmlErrors | None = None) -> None:
    """Register the handlers; ``html_errors`` renders pages for browser navigations."""
    app.state.html_errors = html_errors
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(RequestValidationError, handle_validation)
    app.add_exception_handler(StarletteHTTPException, handle_http)
    for outage_type in OUTAGE_TYPES:
        app.add_exception_handler(outage_type, handle_outage)
    app.add_exception_handler(Exception, handle_unexpected)
