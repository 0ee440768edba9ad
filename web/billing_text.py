"""What the billing page says about a payment and a plan, in words: a message per result class
(HyperPay's result-code groups, docs/payments.md), the catalog's item names instead of ids, and
what each plan card offers relative to the current plan (current / upgrade / switch at period end)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.models import Payment
from core.plans import ADDONS, PLANS

# HyperPay's official result-code groups (reference/hyperpay.md §5), coarsened to what a shopper can do.
THREE_D_SECURE = re.compile(r"^(800\.400\.2|100\.390|000\.400\.[1][0-9][1-9]|000\.400\.2)")
DECLINED = re.compile(
    r"^(800\.[17]00|800\.800\.[123]|300\.100\.100|800\.1[123456]0|800\.[32]|100\.100|100\.2[01]|100\.55"
    r"|100\.400\.[0-3]|100\.380)"
)
BANK_TROUBLE = re.compile(r"^(900\.[1234]00|000\.400\.030|800\.[56]|999\.|600\.1|800\.800\.[84])")

MESSAGES = {
    "paid": "Payment received. Thank you!",
    "waiting": "Waiting for your card payment.",
    "pending": "Your bank is still confirming this payment. This page updates when it does.",
    "expired": "This checkout expired before it was paid. Start a new one when you are ready.",
    "declined": "Your card was declined. Check the card details or use another card.",
    "three_d_secure": "The card's 3-D Secure check did not pass. Try again or use another card.",
    "bank": "The bank could not be reached. No money was taken; try again in a few minutes.",
    "failed": "The payment did not go through. No money was taken; try again or use another card.",
}


def result_kind(payment: Payment) -> str:
    """One of MESSAGES' keys for the payment's status and result code."""
    status, code = payment.status, payment.result_code or ""
    if status == "succeeded":
        return "paid"
    if status in ("created", "pending"):
        return "pending" if code.startswith("000.200") or status == "pending" and code else "waiting"
    if status == "expired":
        return "expired"
    for kind, pattern in (("three_d_secure", THREE_D_SECURE), ("declined", DECLINED), ("bank", BANK_TROUBLE)):
        if pattern.match(code):
            return kind
    return "failed"


def is_error(kind: str) -> bool:
    return kind in ("expired", "declined", "three_d_secure", "bank", "failed")


def item_name(payment: Payment, locale: str) -> str:
    """The catalog's name for a payment's plan or add-on (the id only for unknown items)."""
    arabic = locale == "ar"
    if payment.kind == "addon" and payment.item_id in ADDONS:
        addon = ADDONS[payment.item_id]
        return addon.name_ar if arabic else addon.name_en
    plan = PLANS.get(payment.item_id)
    if plan is not None:
        return plan.name_ar if arabic else plan.name_en
    return payment.item_id


@dataclass(frozen=True)
class PlanAction:
    kind: str  # current | upgrade | downgrade
    note: str  # a msgid (empty for none)


def plan_action(plan_id: str, current_id: str, paid_period: bool) -> PlanAction:
    """What a plan card offers: the current plan, an upgrade (pay now) or, from a paid plan to a
    cheaper one, a switch at the end of the period (the current plan stays until then)."""
    if plan_id == current_id:
        return PlanAction("current", "")
    here, there = PLANS.get(current_id), PLANS.get(plan_id)
    if paid_period and here is not None and there is not None and there.price_fils < here.price_fils:
        return PlanAction(
            "downgrade", "You keep {current} until {date}; then {plan} starts and renews at {price} a month."
        )
    return PlanAction("upgrade", "")
