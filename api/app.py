"""The app factory: the one place that imports every API and web package."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from api import errors
from api.account.export import router as export_router
from api.account.routes import link_router as account_link_router
from api.account.routes import router as account_router
from api.auth.apikeys import router as api_keys_router
from api.auth.routes import link_router as auth_link_router
from api.auth.routes import router as auth_router
from api.chat.routes import router as chat_router
from api.cv.jobs import router as cv_jobs_router
from api.cv.routes import router as cv_router
from api.deps import AppState
from api.dev.routes import router as dev_router
from api.files.routes import router as files_router
from api.health.routes import router as health_router
from api.images.routes import router as images_router
from api.images.webhooks import router as image_webhooks_router
from api.jobs.routes import router as jobs_router
from api.middleware import MetricsMiddleware, RequestContextMiddleware, content_security_policy
from api.openai import MOUNT_PATH as OPENAI_PATH
from api.openai import create_openai_app
from api.payments.admin import router as payments_admin_router
from api.payments.routes import router as payments_router
from api.plans.routes import router as plans_router
from api.slides.routes import router as slides_router
from api.storage.routes import router as storage_router
from api.temporal import TemporalConnection
from api.usage.routes import admin_router as usage_admin_router
from api.usage.routes import router as usage_router
from api.videos.routes import router as videos_router
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.tracing import configure_tracing
from providers.storage import browser_origins
from web.auth import signin_link_page
from web.billing import router as billing_router
from web.cv import router as cv_page_router
from web.files import router as files_page_router
from web.images import router as images_page_router
from web.pages import html_error
from web.routes import router as web_router
from web.slides import router as slides_page_router
from web.video import router as video_page_router
from worker import build_deps


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        deps = build_deps(settings)  # shared with the in-process interactive worker
        state = AppState(settings=settings, db=deps.db, bus=deps.bus, temporal=TemporalConnection(settings))
        app.state.pulse = state
        state.extras["storage"] = deps.storage
        openai_app.state.pulse = state
        state.extras["images"] = deps.images
        state.temporal.start(deps if run_worker else None)
        # readiness doesn't wait; the SDKs only where this process runs chat activities (docs/chat.md)
        warming = asyncio.create_task(deps.warm(providers=run_worker, also=lambda: warm_routes(app)))
        try:
            yield
        finally:
            warming.cancel()
            await state.temporal.stop()
            await deps.aclose()

    # FastAPI's own OpenTelemetry spans (request, dependencies, endpoint) go to the provider
    # configure_tracing installs; without one they are no-ops. Probes and scrapes are not traced.
    configure_tracing(settings, "pulse-api")
    app = FastAPI(
        title="Pulse AI Studio", version="0.1.0", lifespan=lifespan, telemetry={"exclude": _untraced}
    )
    app.add_middleware(MetricsMiddleware)
    csp = content_security_policy(browser_origins(settings))
    app.add_middleware(RequestContextMiddleware, hsts=not settings.is_dev, csp=csp)
    errors.install(app, html_errors=html_error)
    app.state.signin_link_page = signin_link_page  # the emailed link's page (api never imports web)
    app.include_router(health_router)
    app.include_router(chat_router)
    app.include_router(auth_router)
    app.include_router(auth_link_router)
    app.include_router(api_keys_router)
    app.include_router(plans_router)
    app.include_router(usage_router)
    app.include_router(usage_admin_router)
    app.include_router(payments_router)
    app.include_router(payments_admin_router)
    app.include_router(cv_router)
    app.include_router(cv_jobs_router)
    app.include_router(slides_router)
    if settings.is_dev:
        app.include_router(dev_router)
    app.include_router(web_router)
    app.include_router(billing_router)
    app.include_router(cv_page_router)
    app.include_router(jobs_router)
    app.include_router(storage_router)
    app.include_router(files_router)
    app.include_router(files_page_router)
    openai_app = create_openai_app()
    app.mount(OPENAI_PATH, openai_app)
    app.include_router(images_router)
    app.include_router(videos_router)
    app.include_router(image_webhooks_router)
    app.include_router(images_page_router)
    app.include_router(account_router)
    app.include_router(account_link_router)
    app.include_router(export_router)
    app.include_router(video_page_router)
    app.include_router(slides_page_router)
    return app


async def warm_routes(app: FastAPI) -> None:
    """FastAPI builds an included router's routes (dependencies, fields, adapters) on the first
    request that walks it: ~60 ms on the first turn (docs/chat.md "Cold start"). In process,
    before any client: a path no route matches walks them all (404), and the turn route without
    credentials runs the middleware, auth and error path (401)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warm-up") as client:
        await client.get(f"/{WARM_UP_PATH}")
        await client.post("/v1/chat/turns", json={})


WARM_UP_PATH = "_warm-up"  # matches no route
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def asgi() -> FastAPI:
    """Entry for ``uvicorn api.app:asgi --factory`` (production containers)."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    return create_app(settings)
