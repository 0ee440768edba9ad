"""The usage meters as the pages show them (first paint; the ES module refreshes every 30 s)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import ledger, subscriptions
from core.plans import PLANS, UNITS


@dataclass(frozen=True)
class Meter:
    unit: str
    granted: int
    used: int
    remaining: int
    percent: int
    reserved: int
    level: str  # ok (green, < 80 %), warning (yellow, 80–99 %), exceeded (red, 100 %)


@dataclass(frozen=True)
class UsageView:
    plan_name: str
    period_end: datetime | None
    meters: list[Meter]


def level(percent: int, warning: bool, exceeded: bool) -> str:
    if exceeded or percent >= 100:
        return "exceeded"
    return "warning" if warning else "ok"


async def usage_view(state: Any, user_id: str, locale: str) -> UsageView:
    """The user's plan and per-unit meters (puts a new user on Free, like GET /v1/usage/me)."""
    async with state.db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)
        summary = await ledger.usage(session, user_id, warning_percent=state.settings.ledger_warning_percent)
    plan = PLANS.get(summary.plan_id or "")
    name = (plan.name_ar if locale == "ar" else plan.name_en) if plan else ""
    meters = [
        Meter(
            unit=unit.value,
            granted=state_.granted,
            used=state_.used,
            remaining=state_.remaining,
            percent=state_.percent,
            reserved=state_.reserved,
            level=level(state_.percent, state_.warning, state_.exceeded),
        )
        for unit in UNITS
        if (state_ := summary.units[unit.value]).granted > 0 or unit.value == "tokens"
    ]
    return UsageView(plan_name=name, period_end=summary.period_end, meters=meters)
