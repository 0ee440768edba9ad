"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from api.deps import StateDep
from core.errors import Unauthorized
from core.metrics import exposition
from core.outages import RETRY_AFTER_S

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


READY_TIMEOUT_S = 2.0  # the whole check: a partition answers 503 in this time, never later


@router.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    """200 when the database, Temporal and Redis (when configured) answer; 503 naming the
    failing part otherwise, within READY_TIMEOUT_S. Checks that have not answered by then are
    abandoned, not awaited (a black-holed socket can take longer to cancel than to time out)."""
    checks = {
        "database": state.db.ping(),
        "temporal": state.temporal.check(timeout=READY_TIMEOUT_S),
    }
    if state.settings.redis_url:
        checks["redis"] = state.bus.ping()
    tasks = {name: asyncio.ensure_future(check) for name, check in checks.items()}
    await asyncio.wait(tasks.values(), timeout=READY_TIMEOUT_S)
    parts = {name: _outcome(task) for name, task in tasks.items()}
    failing = [name for name, status in parts.items() if status != "ok"]
    body = {"status": "ok" if not failing else "unavailable", "checks": parts, "failing": failing}
    headers = {"Retry-After": str(RETRY_AFTER_S)} if failing else None
    return JSONResponse(body, status_code=200 if not failing else 503, headers=headers)


def _outcome(task: asyncio.Future[None]) -> str:
    if not task.done():
        task.cancel()
        return "error: TimeoutError"
    error = task.exception()
    return "ok" if error is None else f"error: {type(error).__name__}"


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
