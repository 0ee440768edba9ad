"""The emulator app: one router per provider plus the control API.

Adding a provider is one line in ``ROUTERS``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from emulator import anthropic, control, google, hyperpay, openai, openai_images, replicate, video
from emulator.state import EmulatorState

DEFAULT_TTFT_MS = 300
DEFAULT_TOKEN_MS = 30

ROUTERS: list[APIRouter] = [
    control.router,
    video.router,  # before google's: its /models/{target} would take :predictLongRunning
    openai.router,
    anthropic.router,
    google.router,
    hyperpay.router,
    openai_images.router,
    replicate.router,
]


def create_app(
    ttft_ms: int = DEFAULT_TTFT_MS, token_ms: int = DEFAULT_TOKEN_MS, moderation_ms: int = 0
) -> FastAPI:
    app = FastAPI(
        title="Pulse provider emulator", docs_url="/_emulator/docs", openapi_url="/_emulator/openapi.json"
    )
    app.state.emulator = EmulatorState(ttft_ms=ttft_ms, token_ms=token_ms, moderation_ms=moderation_ms)
    for router in ROUTERS:
        app.include_router(router)

    @app.get("/_emulator/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
