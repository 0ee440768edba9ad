"""The emulator's control API for HyperPay (``/_emulator/hyperpay``): timings and webhook
target, reset, call counts, deliveries, replays, queued card outcomes, forced expiry, a
pending payment resolved on demand."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from emulator.hyperpay.state import OUTCOMES, Config, State, state
from emulator.hyperpay.webhooks import deliver, resolve_pending

control = APIRouter(prefix="/_emulator/hyperpay")


@control.post("/config")
async def configure(request: Request) -> dict[str, Any]:
    """Set the webhook URL + secret and the timings; unspecified fields keep their value."""
    values = await request.json()
    for key, value in values.items():
        if key not in Config.__dataclass_fields__:
            return {"error": f"unknown field {key}"}
        setattr(state.config, key, value)
    return vars(state.config)


@control.get("/config")
async def read_config() -> dict[str, Any]:
    return vars(state.config)


@control.post("/reset")
async def reset() -> dict[str, bool]:
    for task in list(state.tasks):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    fresh = State()
    names = (
        "config",
        "checkouts",
        "payments",
        "registrations",
        "deliveries",
        "calls",
        "tasks",
        "refund_outcomes",
    )
    for name in names:
        setattr(state, name, getattr(fresh, name))
    return {"ok": True}


@control.get("/calls")
async def calls() -> dict[str, int]:
    return dict(state.calls)


@control.get("/webhooks")
async def deliveries() -> list[dict[str, Any]]:
    return list(state.deliveries)


@control.post("/webhooks/{payment_id}/replay")
async def replay(payment_id: str, times: int = 1) -> JSONResponse:
    """Send a payment's notification again (as HyperPay's retries do), ``times`` times."""
    payment = state.payments.get(payment_id)
    if payment is None:
        return JSONResponse({"error": "unknown payment"}, status_code=404)
    for _ in range(times):
        await deliver(payment.as_json(), state.config.webhook_url, state.config.webhook_secret)
    return JSONResponse({"sent": times})


@control.post("/registrations/{registration_id}/outcomes")
async def queue_outcomes(registration_id: str, request: Request) -> JSONResponse:
    """Next charges on this card: e.g. ``{"outcomes": ["declined", "declined", "success"]}``."""
    registration = state.registrations.get(registration_id)
    if registration is None:
        return JSONResponse({"error": "unknown registration"}, status_code=404)
    outcomes = (await request.json()).get("outcomes", [])
    if any(outcome not in OUTCOMES for outcome in outcomes):
        return JSONResponse({"error": f"outcomes are {sorted(OUTCOMES)}"}, status_code=400)
    registration.outcomes.extend(outcomes)
    return JSONResponse({"queued": list(registration.outcomes)})


@control.post("/refunds/outcomes")
async def queue_refund_outcomes(request: Request) -> JSONResponse:
    """Next refunds (RF): ``{"outcomes": ["rejected", "lost"]}`` — refused with ``700.400.200``
    (nothing refunded), or refunded with the answer lost (HTTP 504); then as usual."""
    outcomes = (await request.json()).get("outcomes", [])
    if any(outcome not in ("rejected", "lost") for outcome in outcomes):
        return JSONResponse({"error": "outcomes are rejected, lost"}, status_code=400)
    state.refund_outcomes.extend(outcomes)
    return JSONResponse({"queued": list(state.refund_outcomes)})


@control.post("/checkouts/{checkout_id}/expire")
async def expire(checkout_id: str) -> JSONResponse:
    checkout = state.checkouts.get(checkout_id)
    if checkout is None:
        return JSONResponse({"error": "unknown checkout"}, status_code=404)
    checkout.expired = True
    return JSONResponse({"expired": True})


@control.get("/payments")
async def payments() -> list[dict[str, Any]]:
    return [p.as_json() for p in state.payments.values()]


@control.post("/payments/{payment_id}/resolve")
async def resolve(payment_id: str) -> JSONResponse:
    """A pending (3-D Secure) payment succeeds now and sends its webhook, as it would after
    ``pending_seconds``: a test orders a late success after what must come first, no clock."""
    payment = state.payments.get(payment_id)
    if payment is None:
        return JSONResponse({"error": "unknown payment"}, status_code=404)
    if payment.code != OUTCOMES["pending"][0]:
        return JSONResponse({"error": "not pending", "code": payment.code}, status_code=409)
    resolve_pending(payment)
    return JSONResponse(payment.as_json())
