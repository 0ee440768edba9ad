"""The control API: inject faults, read call counts, reset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from emulator.state import FAULT_KINDS, Fault, get_state

router = APIRouter(prefix="/_emulator", tags=["control"])


class FaultIn(BaseModel):
    provider: str = Field(min_length=1)
    kind: str
    count: int = Field(1, ge=1)
    model: str | None = None
    after_tokens: int = Field(0, ge=0)
    retry_after_s: float | None = Field(None, ge=0)
    delay_s: float = Field(0.5, ge=0)
    copies: int = Field(3, ge=1, le=10)
    wait_s: float = Field(0.0, ge=0, le=600)


@router.post("/faults")
async def add_fault(fault: FaultIn, request: Request) -> dict[str, Any]:
    if fault.kind not in FAULT_KINDS and not (fault.kind.startswith("http_") and fault.kind[5:].isdigit()):
        raise HTTPException(
            422, f"unknown fault kind {fault.kind!r}; one of {sorted(FAULT_KINDS)} or http_<status>"
        )
    state = get_state(request)
    state.add_fault(Fault(**fault.model_dump()))
    return {"queued": [vars(f) for f in state.faults]}


class LatencyIn(BaseModel):
    ttft_ms: int | None = Field(None, ge=0)
    token_ms: int | None = Field(None, ge=0)
    moderation_ms: int | None = Field(None, ge=0)
    create_ms: int | None = Field(None, ge=0)  # Veo, Runway and Replicate creates


@router.post("/latency")
async def set_latency(latency: LatencyIn, request: Request) -> dict[str, int]:
    """Change the pacing until the next reset (which restores the values the emulator started with)."""
    state = get_state(request)
    state.set_latency(latency.ttft_ms, latency.token_ms, latency.moderation_ms, latency.create_ms)
    return state.latency()


@router.get("/calls")
async def calls(request: Request) -> dict[str, Any]:
    return get_state(request).snapshot()


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    get_state(request).reset()
    return {"reset": True}
