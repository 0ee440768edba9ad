"""The plans catalog (``core.plans``) as the landing page shows it, in one language."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.plans import ADDONS, PLANS


@dataclass(frozen=True)
class Offer:
    code: str
    name: str
    description: str
    price_fils: int
    quotas: dict[str, int] = field(default_factory=dict)


def plan_offers(locale: str) -> list[Offer]:
    arabic = locale == "ar"
    return [
        Offer(
            code=plan.id,
            name=plan.name_ar if arabic else plan.name_en,
            description=plan.description_ar if arabic else plan.description_en,
            price_fils=plan.price_fils,
            quotas={unit.value: amount for unit, amount in plan.quotas.items() if amount},
        )
        for plan in PLANS.values()
    ]


def addon_offers(locale: str) -> list[Offer]:
    return [
        Offer(
            code=addon.id,
            name=addon.name_ar if locale == "ar" else addon.name_en,
            description="",
            price_fils=addon.price_fils,
            quotas={addon.unit.value: addon.amount},
        )
        for addon in ADDONS.values()
    ]
