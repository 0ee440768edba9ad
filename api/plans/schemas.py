from __future__ import annotations

from pydantic import BaseModel


class Localized(BaseModel):
    ar: str
    en: str


class AddOnPublic(BaseModel):
    id: str
    unit: str
    amount: int
    name: Localized
    price_fils: int
    price: Localized


class PlanPublic(BaseModel):
    id: str
    name: Localized
    description: Localized
    price_fils: int
    price: Localized
    quotas: dict[str, int]
    addons: list[AddOnPublic]


class PlanList(BaseModel):
    plans: list[PlanPublic]
    addons: list[AddOnPublic]
