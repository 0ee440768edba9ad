"""Proration of plan upgrades (pure; no I/O, so workflows may use it too).

Decision (#15 item 6): an upgrade takes effect now, with a credit for the unused part of the
current paid period. The credit is the current plan's price times the fraction of the period
left, rounded down to 10 fils (HyperPay takes two decimals of a dinar); the person pays the new
plan's price minus the credit, and the new plan's month starts now. Downgrades and same-price
changes get no credit (a downgrade waits for period end). The billing page shows the credit and
the amount before paying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.plans import get_plan


@dataclass(frozen=True)
class Quote:
    plan_id: str
    price_fils: int  # the new plan's monthly price
    credit_fils: int  # for the unused part of the current period
    amount_fils: int  # what is charged now


def quote(
    current_plan_id: str, period_start: datetime, period_end: datetime, plan_id: str, now: datetime
) -> Quote:
    """What moving from the current plan to ``plan_id`` at ``now`` costs."""
    new, old = get_plan(plan_id), get_plan(current_plan_id)
    given = credit(old.price_fils, period_start, period_end, now) if old.price_fils < new.price_fils else 0
    return Quote(new.id, new.price_fils, given, new.price_fils - given)


def credit(price_fils: int, period_start: datetime, period_end: datetime, now: datetime) -> int:
    """The unused part of a period bought at ``price_fils``: price × time left, rounded down to
    10 fils (HyperPay takes two decimals of a dinar); 0 outside the period."""
    if price_fils <= 0 or not period_start <= now < period_end:
        return 0
    left = (period_end - now) / (period_end - period_start)
    return int(price_fils * left) // 10 * 10
