"""The plans catalog (public): ``GET /v1/plans`` and ``GET /v1/plans/{id}``."""

from __future__ import annotations

from fastapi import APIRouter

from api.plans.schemas import AddOnPublic, Localized, PlanList, PlanPublic
from core.i18n import format_fils
from core.plans import ADDONS, PLANS, UNITS, AddOn, Plan, get_plan

router = APIRouter(prefix="/v1/plans", tags=["plans"])


def price(fils: int) -> Localized:
    return Localized(ar=format_fils(fils, "ar"), en=format_fils(fils, "en"))


def addon_public(addon: AddOn) -> AddOnPublic:
    return AddOnPublic(
        id=addon.id,
        unit=addon.unit.value,
        amount=addon.amount,
        name=Localized(ar=addon.name_ar, en=addon.name_en),
        price_fils=addon.price_fils,
        price=price(addon.price_fils),
    )


def plan_public(plan: Plan) -> PlanPublic:
    return PlanPublic(
        id=plan.id,
        name=Localized(ar=plan.name_ar, en=plan.name_en),
        description=Localized(ar=plan.description_ar, en=plan.description_en),
        price_fils=plan.price_fils,
        price=price(plan.price_fils),
        quotas={unit.value: plan.quota(unit) for unit in UNITS},
        addons=[addon_public(addon) for addon in ADDONS.values()],
    )


@router.get("", response_model=PlanList)
async def list_plans() -> PlanList:
    return PlanList(
        plans=[plan_public(plan) for plan in PLANS.values()],
        addons=[addon_public(addon) for addon in ADDONS.values()],
    )


@router.get("/{plan_id}", response_model=PlanPublic)
async def show_plan(plan_id: str) -> PlanPublic:
    return plan_public(get_plan(plan_id))
