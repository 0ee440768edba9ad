from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

UnitName = Literal["tokens", "images", "videos"]


class UnitUsagePublic(BaseModel):
    granted: int
    used: int
    reserved: int
    remaining: int
    percent: int
    warning: bool
    exceeded: bool


class UsageMe(BaseModel):
    plan_id: str | None
    status: str | None
    period_start: datetime | None
    period_end: datetime | None
    units: dict[str, UnitUsagePublic]


class EntryPublic(BaseModel):
    id: int
    unit: str
    kind: str
    amount: int
    key: str
    job_id: str | None
    actor: str
    reason: str
    meta: dict[str, Any]
    created_at: datetime


class HistoryPage(BaseModel):
    items: list[EntryPublic]
    next_before: int | None = Field(None, description="pass as ?before= for the next (older) page")


class CheckRequest(BaseModel):
    unit: UnitName
    amount: int = Field(gt=0, le=10**9)
    min_amount: int | None = Field(None, gt=0, le=10**9, description="tokens: accept a reduced amount")


class CheckResult(BaseModel):
    allowed: bool
    unit: str
    amount: int
    available: int
    grantable: int = 0  # what a reservation would hold now (less than amount when reduced)
    reduced: bool = False
    reason: str | None = None  # error code when denied (quota_exceeded)
    message: str


class PlanChange(BaseModel):
    plan_id: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=500)
    key: str | None = Field(None, max_length=150, description="idempotency key; one change per key")


class Adjustment(BaseModel):
    unit: UnitName
    delta: int = Field(ge=-(10**9), le=10**9)  # 0 is refused by the ledger (invalid_amount)
    reason: str = Field(min_length=1, max_length=500)
    key: str | None = Field(None, max_length=150)


class SubscriptionPublic(BaseModel):
    user_id: str
    plan_id: str
    status: str
    current_period_start: datetime
    current_period_end: datetime


class AdjustmentResult(BaseModel):
    user_id: str
    unit: str
    applied: int
    available: int
