"""What can be bought, one row per payment and per HyperPay attempt, and what HyperPay said.

Nothing here trusts the shopper's redirect or a webhook's content: a payment's status changes
only from a server-to-server result recorded by an activity."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.models import Payment, PaymentAttempt, PaymentKind, PaymentStatus
from core.models.base import new_id
from core.payments.errors import PaymentNotFound, UnknownItem
from core.plans import FREE, get_addon, get_plan

ITEM = re.compile(r"^(plan|addon):([a-z0-9_]{1,32})$")
CARD = "VISA MASTER"
MADA = "MADA"
FINAL = (
    PaymentStatus.succeeded.value,
    PaymentStatus.failed.value,
    PaymentStatus.expired.value,
    PaymentStatus.refunded.value,
)


def return_signature(secret: str, payment_id: str) -> str:
    """An HMAC of the payment id: a return link works only for the payment it was made for."""
    digest = hmac.new(secret.encode(), f"billing-return:{payment_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def return_url(public_url: str, secret: str, payment_id: str) -> str:
    """Where HyperPay sends the shopper back: ``/billing/return`` with the signed payment id."""
    signature = return_signature(secret, payment_id)
    return f"{public_url.rstrip('/')}/billing/return?payment={payment_id}&sig={signature}"


@dataclass(frozen=True)
class Item:
    kind: PaymentKind
    item_id: str
    amount_fils: int


def parse_item(text: str) -> Item:
    """``plan:pro`` or ``addon:tokens_200k`` → what it costs (Free is not for sale)."""
    match = ITEM.match(text.strip())
    if not match:
        raise UnknownItem()
    kind, item_id = match.groups()
    try:
        if kind == "plan":
            plan = get_plan(item_id)
            if plan.id == FREE or plan.price_fils <= 0:
                raise UnknownItem()
            return Item(PaymentKind.plan, plan.id, plan.price_fils)
        addon = get_addon(item_id)
    except NotFound:
        raise UnknownItem() from None
    return Item(PaymentKind.addon, addon.id, addon.price_fils)


@dataclass(frozen=True)
class ProviderOutcome:
    """A HyperPay answer as core needs it (``result_class`` from the official code groups)."""

    code: str
    description: str
    result_class: str  # success | manual_review | pending | rejected | temporary
    provider_payment_id: str = ""
    registration_id: str = ""
    card_last4: str = ""


def status_for(result_class: str) -> PaymentStatus:
    """Only a final success is paid: manual review waits for HyperPay's final result (unlike
    HyperPay's own plugins, which grant on review and would have to claw back a rejection)."""
    if result_class == "success":
        return PaymentStatus.succeeded
    if result_class in ("pending", "temporary", "manual_review"):
        return PaymentStatus.pending
    return PaymentStatus.failed


async def create_payment(
    session: AsyncSession,
    user_id: str,
    item: Item,
    *,
    brand: str = CARD,
    key: str | None = None,
    registration_id: str | None = None,
    initial_transaction_id: str | None = None,
) -> Payment:
    """A new payment; with ``key`` (renewals) the existing one for that key is returned."""
    if key:
        existing = (await session.execute(select(Payment).where(Payment.key == key))).scalar_one_or_none()
        if existing is not None:
            return existing
    payment = Payment(
        id=new_id(),
        user_id=user_id,
        kind=item.kind.value,
        item_id=item.item_id,
        amount_fils=item.amount_fils,
        brand=brand,
        status=PaymentStatus.created.value,
        key=key,
        registration_id=registration_id,
        initial_transaction_id=initial_transaction_id,
    )
    if not key:
        session.add(payment)
        await session.flush()
        return payment
    try:  # two requests with one key at once: the second finds the first's row
        async with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        existing = (await session.execute(select(Payment).where(Payment.key == key))).scalar_one()
        return existing
    return payment


async def get_payment(session: AsyncSession, payment_id: str, *, user_id: str | None = None) -> Payment:
    """The payment (scoped to ``user_id`` when given: another user's id answers 404)."""
    query = select(Payment).where(Payment.id == payment_id).execution_options(populate_existing=True)
    if user_id is not None:
        query = query.where(Payment.user_id == user_id)
    payment = (await session.execute(query)).scalar_one_or_none()
    if payment is None:
        raise PaymentNotFound()
    return payment


async def lock_payment(session: AsyncSession, payment_id: str) -> Payment:
    query = (
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payment = (await session.execute(query)).scalar_one_or_none()
    if payment is None:
        raise PaymentNotFound()
    return payment


async def by_checkout(session: AsyncSession, checkout_id: str) -> Payment | None:
    query = select(Payment).where(Payment.checkout_id == checkout_id)
    return (await session.execute(query)).scalar_one_or_none()


async def by_reference(session: AsyncSession, merchant_transaction_id: str) -> Payment | None:
    query = (
        select(Payment)
        .join(PaymentAttempt, PaymentAttempt.payment_id == Payment.id)
        .where(PaymentAttempt.merchant_transaction_id == merchant_transaction_id)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def history(session: AsyncSession, user_id: str, *, limit: int = 50) -> list[Payment]:
    query = (
        select(Payment)
        .where(Payment.user_id == user_id, Payment.status != PaymentStatus.created.value)
        .order_by(Payment.created_at.desc())
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def list_payments(
    session: AsyncSession, *, status: str | None = None, limit: int = 100
) -> list[Payment]:
    query = select(Payment).order_by(Payment.created_at.desc()).limit(limit)
    if status:
        query = query.where(Payment.status == status)
    return list((await session.execute(query)).scalars())


async def attempts(session: AsyncSession, payment_id: str) -> list[PaymentAttempt]:
    query = (
        select(PaymentAttempt).where(PaymentAttempt.payment_id == payment_id).order_by(PaymentAttempt.number)
    )
    return list((await session.execute(query)).scalars())


async def new_attempt(session: AsyncSession, payment: Payment, *, actor: str = "system") -> PaymentAttempt:
    """The next attempt, with its own merchantTransactionId (``<payment>-<n>``)."""
    payment.attempts += 1
    attempt = PaymentAttempt(
        payment_id=payment.id,
        number=payment.attempts,
        merchant_transaction_id=f"{payment.id}-{payment.attempts}",
        actor=actor,
    )
    session.add(attempt)
    await session.flush()
    return attempt


async def last_attempt(session: AsyncSession, payment_id: str) -> PaymentAttempt | None:
    query = (
        select(PaymentAttempt)
        .where(PaymentAttempt.payment_id == payment_id)
        .order_by(PaymentAttempt.number.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def refund_target(session: AsyncSession, payment: Payment) -> tuple[str, str]:
    """What a refund of ``payment`` names: HyperPay's payment id, and the merchant reference of
    its last attempt (under which an earlier refund is looked up before sending another)."""
    attempt = await last_attempt(session, payment.id)
    return payment.provider_payment_id or "", attempt.merchant_transaction_id if attempt else ""


def record_outcome(payment: Payment, attempt: PaymentAttempt | None, outcome: ProviderOutcome) -> None:
    """Store what HyperPay said; a payment that succeeded never goes back."""
    if attempt is not None:
        attempt.result_code = outcome.code
        attempt.result_class = outcome.result_class
        attempt.provider_payment_id = outcome.provider_payment_id or attempt.provider_payment_id
    if payment.status == PaymentStatus.succeeded.value:
        return
    payment.status = status_for(outcome.result_class).value
    payment.result_code = outcome.code
    payment.result_description = outcome.description[:500]
    payment.provider_payment_id = outcome.provider_payment_id or payment.provider_payment_id
    payment.registration_id = outcome.registration_id or payment.registration_id
    payment.card_last4 = outcome.card_last4 or payment.card_last4
    if payment.kind == PaymentKind.plan.value and payment.status == PaymentStatus.succeeded.value:
        payment.initial_transaction_id = payment.initial_transaction_id or payment.provider_payment_id


def settled(payment: Payment) -> bool:
    """Nothing left to happen: failed/expired, or succeeded and granted."""
    if payment.status == PaymentStatus.succeeded.value:
        return payment.fulfilled_at is not None
    return payment.status in FINAL


def mark(payment: Payment, status: PaymentStatus, code: str | None = None, description: str = "") -> None:
    if payment.status == PaymentStatus.succeeded.value:
        return
    payment.status = status.value
    if code:
        payment.result_code = code
        payment.result_description = description[:500]


async def get_attempt(session: AsyncSession, attempt_id: str) -> PaymentAttempt | None:
    return await session.get(PaymentAttempt, attempt_id)
