from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, JsonValue

from core.plans import ADDONS, PLANS

# what can be bought, listed in the schema (clients and fuzzers see the valid values); any
# other string is still answered by the route: 422 ``unknown_item``
ITEMS: list[JsonValue] = [f"plan:{p.id}" for p in PLANS.values() if p.price_fils > 0]
ITEMS += [f"addon:{a}" for a in ADDONS]


class CheckoutIn(BaseModel):
    item: str = Field(examples=["plan:pro", "addon:tokens_200k"], json_schema_extra={"enum": ITEMS})
    brand: Literal["card", "mada"] = "card"


class Widget(BaseModel):
    script_url: str
    brands: str
    shopper_result_url: str


class CheckoutOut(BaseModel):
    payment_id: str
    checkout_id: str
    amount: int  # fils
    amount_display: str
    currency: str = "JOD"
    widget: Widget


class PaymentOut(BaseModel):
    id: str
    kind: str
    item_id: str
    amount: int
    amount_display: str
    currency: str
    status: str
    result_code: str | None
    result_description: str | None
    card_last4: str | None
    attempts: int
    fulfilled: bool  # what was bought has been granted
    created_at: datetime


class AdminPaymentOut(PaymentOut):
    user_id: str
    user_email: str


class ReturnOut(BaseModel):
    payment_id: str
    status: str
    result_code: str | None


class Accepted(BaseModel):
    ok: bool = True


class SubscriptionOut(BaseModel):
    plan_id: str
    status: str
    current_period_end: datetime
    cancel_at_period_end: bool


class PlanChangeIn(BaseModel):
    plan: str


class RetryIn(BaseModel):
    reason: str = ""


class RetryOut(BaseModel):
    payment_id: str
    status: str
    result_code: str


class AdminUserOut(BaseModel):
    id: str
    email: str
    role: str
    locale: str
    plan_id: str | None
    subscription_status: str | None
    current_period_end: datetime | None
    usage: dict[str, dict[str, int]]
    payments: list[PaymentOut]


class AuditOut(BaseModel):
    id: str
    actor_id: str
    action: str
    target_type: str
    target_id: str
    reason: str
    details: dict[str, object]
    created_at: datetime


class QuoteOut(BaseModel):
    """An upgrade's price now (fils): ``amount`` = ``price`` − ``credit`` for the unused period."""

    plan_id: str
    price: int
    credit: int
    amount: int
    amount_display: str


class FailedRefundOut(BaseModel):
    """A refund HyperPay rejected (``status`` ``open``) or that a retry gave back (``refunded``)."""

    id: str
    payment_id: str
    user_id: str
    user_email: str
    cause: str  # late | superseded | overlap
    cause_label: str  # why it was owed, in the caller's language
    amount: int
    amount_display: str
    status: str
    result_code: str
    result_description: str
    attempts: int
    created_at: datetime
    updated_at: datetime


class RefundRetryOut(BaseModel):
    refund_id: str
    status: str  # open (rejected again) | refunded
    result_code: str
