"""The OpenAI-compatible API, a sub-application mounted at ``/openai`` (a client's ``base_url``
is ``<host>/openai/v1``), with its own error handlers so every answer is in OpenAI's shape."""

from __future__ import annotations

from fastapi import FastAPI

from api.openai import errors, images
from api.openai.routes import router

MOUNT_PATH = "/openai"


def create_openai_app() -> FastAPI:
    """Mounted by the app factory, which also sets ``app.state.pulse`` (shared with the parent)."""
    app = FastAPI(
        title="Pulse AI Studio — OpenAI-compatible API", version="1", docs_url="/docs", redoc_url=None
    )
    errors.install(app)
    app.include_router(router)
    app.include_router(images.router)
    return app
