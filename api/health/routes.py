"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from api.deps import StateDep
from core.errors import Unauthorized
from core.metrics import exposition

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    """200 when the database and Temporal answer; 503 naming the failing part otherwise."""
    checks = {"database": state.db.ping(), "temporal": state.temporal.check(timeout=2.0)}
    results = await asyncio.gather(
        *(asyncio.wait_for(c, 3.0) for c in checks.values()), return_exceptions=True
    )
    parts = {
        name: ("ok" if not isinstance(result, BaseException) else f"error: {type(result).__name__}")
        for name, result in zip(checks, results, strict=True)
    }
    failing = [name for name, status in parts.items() if status != "ok"]
    body = {"status": "ok" if not failing else "unavailable", "checks": parts, "failing": failing}
    return JSONResponse(body, status_code=200 if not failing else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(state: StateDep, authorization: str = Header(default="")) -> Response:
    """This process's metrics; with PULSE_METRICS_TOKEN set, only for ``Bearer <token>``.
    In prod without a token, refused (metrics tell outsiders too much)."""
    token = state.settings.metrics_token
    if token is None and not state.settings.is_dev:
        raise Unauthorized()
    if token is not None and not hmac.compare_digest(
        authorization.encode(), f"Bearer {token.get_secret_value()}".encode()
    ):
        raise Unauthorized()
    body, content_type = exposition()
    return Response(body, media_type=content_type)
