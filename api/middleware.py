"""Request ids and log context, and security headers (pure ASGI, so SSE streams pass through)."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import HTTP_REQUESTS, HTTP_RESPONSE_START

CSP = (
    "default-src 'self'; img-src 'self' data: blob:{storage}; media-src 'self'{storage}; "
    "style-src 'self'; script-src 'self'; font-src 'self'; connect-src 'self'{storage}; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def content_security_policy(storage_origins: tuple[str, ...] = ()) -> str:
    """The pages' CSP; ``storage_origins`` (S3) may serve images and video (signed links) and
    take uploads (the browser posts the form there)."""
    return CSP.format(storage="".join(f" {origin}" for origin in storage_origins))


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool, csp: str | None = None) -> None:
        self.app = app
        self.hsts = hsts
        self.csp = csp or content_security_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode()[:64]
        request_id = incoming or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Content-Security-Policy", self.csp)
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, send_with_headers)


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Counts responses and times them to their headers, labelled by route template (the
    router puts the matched route in the scope before the handler runs)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_and_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", "unmatched")
                method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
                HTTP_RESPONSE_START.labels(method, route).observe(time.perf_counter() - started)
                HTTP_REQUESTS.labels(method, route, str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, send_and_count)
