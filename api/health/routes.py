"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep

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
