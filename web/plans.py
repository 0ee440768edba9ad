"""The plans catalog as the pages see it.

``core.plans`` (ledger) owns the catalog: ``PLANS`` and ``ADDONS`` with name_ar/name_en,
description_ar/description_en, price_fils and quotas. Until it lands on main this module falls
back to the same shape built from DESIGN.md, so the landing page renders either way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

UNITS = ("tokens", "images", "videos")


@dataclass(frozen=True)
class Offer:
    """One plan or add-on, ready for a template in one locale."""

    code: str
    name: str
    description: str
    price_fils: int
    quotas: dict[str, int] = field(default_factory=dict)


def _value(item: Any, key: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(key, default)
    return getattr(item, key, default)


def _quotas(item: Any) -> dict[str, int]:
    raw = _value(item, "quotas", {}) or {}
    if not isinstance(raw, Mapping):
        raw = {unit: _value(raw, unit, 0) for unit in UNITS}
    return {str(getattr(unit, "value", unit)): int(amount) for unit, amount in raw.items() if amount}


def _items(catalog: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(catalog, Mapping):
        return [(str(getattr(code, "value", code)), item) for code, item in catalog.items()]
    return [(str(_value(item, "code", "") or _value(item, "id", "")), item) for item in catalog]


def offers(catalog: Any, locale: str) -> list[Offer]:
    """Plans or add-ons in the locale's language, in catalog order."""
    suffix = "ar" if locale == "ar" else "en"
    return [
        Offer(
            code=code,
            name=str(_value(item, f"name_{suffix}", code)),
            description=str(_value(item, f"description_{suffix}", "")),
            price_fils=int(_value(item, "price_fils", 0)),
            quotas=_quotas(item),
        )
        for code, item in _items(catalog)
    ]


def _fallback() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def plan(code: str, ar: str, en: str, fils: int, quotas: dict[str, int]) -> dict[str, Any]:
        return {"code": code, "name_ar": ar, "name_en": en, "price_fils": fils, "quotas": quotas}

    plans = [
        plan("free", "مجانية", "Free", 0, {"tokens": 20_000, "images": 2}),
        plan("starter", "المبتدئ", "Starter", 3000, {"tokens": 300_000, "images": 20}),
        plan("pro", "الاحترافية", "Pro", 5000, {"tokens": 1_000_000, "images": 60, "videos": 2}),
        plan("creator", "المبدع", "Creator", 7000, {"tokens": 2_500_000, "images": 150, "videos": 5}),
    ]
    addons = [
        plan("tokens_200k", "200 ألف رمز إضافي", "+200k tokens", 1000, {"tokens": 200_000}),
        plan("images_10", "10 صور إضافية", "+10 images", 1000, {"images": 10}),
        plan("video_1", "فيديو إضافي", "+1 video", 1000, {"videos": 1}),
    ]
    return plans, addons


def catalog() -> tuple[Any, Any]:
    """(PLANS, ADDONS) from core.plans when present, else the documented fallback."""
    try:
        from core import plans as core_plans  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _fallback()
    return core_plans.PLANS, core_plans.ADDONS
