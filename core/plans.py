"""The plans and add-ons catalog (in code; prices are integer fils, 1 JOD = 1000 fils)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core.errors import NotFound


class Unit(StrEnum):
    tokens = "tokens"
    images = "images"
    videos = "videos"


UNITS: tuple[Unit, ...] = (Unit.tokens, Unit.images, Unit.videos)  # also the lock order


@dataclass(frozen=True)
class Plan:
    id: str
    name_ar: str
    name_en: str
    description_ar: str
    description_en: str
    price_fils: int
    quotas: dict[Unit, int] = field(default_factory=dict)

    def quota(self, unit: Unit) -> int:
        return self.quotas.get(unit, 0)


@dataclass(frozen=True)
class AddOn:
    id: str
    unit: Unit
    amount: int
    name_ar: str
    name_en: str
    price_fils: int = 1000


class PlanNotFound(NotFound):
    code = "plan_not_found"
    message = "This plan does not exist."


class AddOnNotFound(NotFound):
    code = "addon_not_found"
    message = "This add-on does not exist."


FREE = "free"

PLANS: dict[str, Plan] = {
    plan.id: plan
    for plan in (
        Plan(
            id=FREE,
            name_ar="المجانية",
            name_en="Free",
            description_ar="للتجربة: محادثات قصيرة وصورتان كل شهر.",
            description_en="To try things out: short chats and two images a month.",
            price_fils=0,
            quotas={Unit.tokens: 20_000, Unit.images: 2, Unit.videos: 0},
        ),
        Plan(
            id="starter",
            name_ar="البداية",
            name_en="Starter",
            description_ar="للاستخدام اليومي: محادثات ومستندات وصور.",
            description_en="For everyday use: chats, documents and images.",
            price_fils=3_000,
            quotas={Unit.tokens: 300_000, Unit.images: 20, Unit.videos: 0},
        ),
        Plan(
            id="pro",
            name_ar="المحترفة",
            name_en="Pro",
            description_ar="لمن يعمل كل يوم: مليون رمز وصور وفيديوهان.",
            description_en="For daily work: a million tokens, images and two videos.",
            price_fils=5_000,
            quotas={Unit.tokens: 1_000_000, Unit.images: 60, Unit.videos: 2},
        ),
        Plan(
            id="creator",
            name_ar="المبدعين",
            name_en="Creator",
            description_ar="لصنّاع المحتوى: أكبر رصيد من الرموز والصور والفيديو.",
            description_en="For content creators: the largest allowance of tokens, images and video.",
            price_fils=7_000,
            quotas={Unit.tokens: 2_500_000, Unit.images: 150, Unit.videos: 5},
        ),
    )
}

ADDONS: dict[str, AddOn] = {
    addon.id: addon
    for addon in (
        AddOn(
            id="tokens_200k", unit=Unit.tokens, amount=200_000, name_ar="200 ألف رمز", name_en="200k tokens"
        ),
        AddOn(id="images_10", unit=Unit.images, amount=10, name_ar="10 صور", name_en="10 images"),
        AddOn(id="video_1", unit=Unit.videos, amount=1, name_ar="فيديو واحد", name_en="1 video"),
    )
}


def get_plan(plan_id: str) -> Plan:
    try:
        return PLANS[plan_id]
    except KeyError:
        raise PlanNotFound() from None


def get_addon(addon_id: str) -> AddOn:
    try:
        return ADDONS[addon_id]
    except KeyError:
        raise AddOnNotFound() from None
