"""The support console in words: audit events and their targets labelled in the page's
language (no raw event names or ids), with people shown by email."""

from __future__ import annotations

from core.payments import cause_label

AUDIT_LABELS = {
    "role.granted": "Role granted",
    "user.lookup": "Account looked up",
    "payment.retry": "Payment retried",
    "subscription.set_plan": "Plan changed",
    "quota.adjust": "Balance adjusted",
    "refund.retry": "Refund retried",
}
TARGET_LABELS = {"user": "Account", "payment": "Payment", "subscription": "Subscription"}
UNKNOWN_EVENT = "Other action"
# shown by web/static/js/support.js after a refund retry
REFUND_JS_STRINGS = ("Refunded", "HyperPay refused the refund again ({code}).")


def audit_label(action: str) -> str:
    return AUDIT_LABELS.get(action, UNKNOWN_EVENT)


def refund_cause(cause: str) -> str:
    return cause_label(cause)


def target_label(target_type: str) -> str:
    return TARGET_LABELS.get(target_type, "Record")
