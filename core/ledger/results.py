"""Constants and the results the ledger's operations return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.models import (
    ReservationStatus,
)

ADDON_VALIDITY_MONTHS = 12


ADJUST_VALIDITY_MONTHS = 12


WARNING_PERCENT = 80


@dataclass(frozen=True)
class Reservation:
    key: str
    amount: int
    reduced: bool
    status: str = ReservationStatus.reserved.value


@dataclass(frozen=True)
class SettleResult:
    charged: int  # total charged (within the reservation + overage)
    released: int  # reserved but not used, given back
    overage: int  # charged above the reservation (from what was available)
    uncovered: int = 0  # used above the reservation that nothing could cover (recorded only)
    owner: tuple[str, str] | None = field(default=None, compare=False)  # (user_id, unit)


@dataclass(frozen=True)
class UnitUsage:
    unit: str
    granted: int
    used: int
    reserved: int
    remaining: int
    percent: int
    warning: bool
    exceeded: bool


@dataclass(frozen=True)
class UsageSummary:
    plan_id: str | None
    status: str | None
    period_start: datetime | None
    period_end: datetime | None
    units: dict[str, UnitUsage] = field(default_factory=dict)
