"""Payments: what can be bought, one row per payment and per HyperPay attempt, webhook events,
fulfilment (plan period or add-on, idempotent by payment) and the support audit log.

Money is integer fils. Nothing here trusts the shopper's redirect or a webhook's content: a
payment's status changes only from a server-to-server result recorded by an activity.

The package: ``checkout`` (items, payments, attempts, HyperPay outcomes), ``fulfilment`` (the
grant, once), ``renewals`` (the paid period a SubscriptionWorkflow renews, dunning, the upgrade
quote), ``refunds`` (a payment nobody awaited any more), ``webhooks``, ``audit`` and ``errors``.
Every public name is importable from ``core.payments``.
"""

from __future__ import annotations

from core.payments.audit import audit, audit_log, get_user, user_by_email
from core.payments.checkout import (
    CARD,
    FINAL,
    ITEM,
    MADA,
    Item,
    ProviderOutcome,
    attempts,
    by_checkout,
    by_reference,
    create_payment,
    get_attempt,
    get_payment,
    history,
    last_attempt,
    list_payments,
    lock_payment,
    mark,
    new_attempt,
    parse_item,
    record_outcome,
    refund_target,
    return_signature,
    return_url,
    settled,
    status_for,
)
from core.payments.errors import (
    IDEMPOTENCY_KEY,
    ChangeInProgress,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    InvalidWebhook,
    NoSubscription,
    PaymentNotFound,
    PaymentUnavailable,
    RetryNotPossible,
    UnknownItem,
    idempotency_key,
)
from core.payments.failed_refunds import (
    CAUSE_LABELS,
    RefundNotFound,
    cause_label,
    get_failed_refund,
    list_failed_refunds,
    record_failed_refund,
    record_retry,
)
from core.payments.failed_refunds import (
    RETRIED as REFUND_RETRIED,
)
from core.payments.fulfilment import Fulfilled, fulfil
from core.payments.refunds import audit_late, decide_late, late_payment_decision, mark_refunded
from core.payments.renewals import (
    PaidPeriod,
    end_paid_plan,
    paid_period,
    paid_periods,
    set_cancel_at_period_end,
    set_past_due,
    upgrade_quote,
)
from core.payments.webhooks import store_webhook, webhook_dedupe_key, webhook_events

__all__ = [
    "REFUND_RETRIED",
    "CAUSE_LABELS",
    "cause_label",
    "RefundNotFound",
    "get_failed_refund",
    "list_failed_refunds",
    "record_failed_refund",
    "record_retry",
    "CARD",
    "FINAL",
    "IDEMPOTENCY_KEY",
    "ITEM",
    "MADA",
    "ChangeInProgress",
    "Fulfilled",
    "IdempotencyKeyRequired",
    "IdempotencyKeyReused",
    "InvalidWebhook",
    "Item",
    "NoSubscription",
    "PaidPeriod",
    "PaymentNotFound",
    "PaymentUnavailable",
    "ProviderOutcome",
    "RetryNotPossible",
    "UnknownItem",
    "attempts",
    "audit",
    "audit_late",
    "audit_log",
    "by_checkout",
    "by_reference",
    "create_payment",
    "decide_late",
    "end_paid_plan",
    "fulfil",
    "get_attempt",
    "get_payment",
    "get_user",
    "history",
    "idempotency_key",
    "last_attempt",
    "late_payment_decision",
    "list_payments",
    "lock_payment",
    "mark",
    "mark_refunded",
    "new_attempt",
    "paid_period",
    "paid_periods",
    "parse_item",
    "record_outcome",
    "refund_target",
    "return_signature",
    "return_url",
    "set_cancel_at_period_end",
    "set_past_due",
    "settled",
    "status_for",
    "store_webhook",
    "upgrade_quote",
    "user_by_email",
    "webhook_dedupe_key",
    "webhook_events",
]
