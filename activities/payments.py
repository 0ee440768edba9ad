"""Payment activities: HyperPay calls and their bookkeeping, injected with the database and
the HyperPay client. Each is idempotent, so Temporal may retry any of them.

HyperPay transport failures, 5xx, throttling and ``temporary`` result codes raise retryable
errors (the workflow's retry policy spaces them out); everything else is returned as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.refunds import refund_once, transient
from core import payments
from core.db import Database
from core.i18n import format_when
from core.metrics import PAYMENTS
from core.models import Payment, PaymentAttempt, PaymentKind, PaymentStatus
from core.models.base import utcnow
from core.payments import ProviderOutcome, overlap
from core.payments.fulfilment import STALE
from core.plans import get_addon, get_plan
from core.settings import Settings
from providers.payments.hyperpay import (
    EXPIRED_CHECKOUT,
    Brand,
    CheckoutRequest,
    HyperPayClient,
    HyperPayUnavailable,
    PaymentResult,
    ResultClass,
    is_hard_decline,
)

log = structlog.get_logger(__name__)

STALE_PERIOD = STALE  # a Fulfilment.sequence: the plan's period was replaced since it was granted


@dataclass
class CheckoutCreated:
    payment_id: str
    checkout_id: str
    amount_fils: int
    brand: str
    widget_url: str


@dataclass
class Verification:
    payment_id: str
    status: str  # succeeded | failed | pending | expired
    result_code: str = ""
    result_description: str = ""


@dataclass
class Fulfilment:
    payment_id: str
    user_id: str
    kind: str
    item_id: str
    amount_fils: int
    email: str
    locale: str
    newly: bool
    registration_id: str = ""
    initial_transaction_id: str = ""
    brand: str = "VISA MASTER"
    period_end: datetime | None = None
    item_name: str = ""
    period_start: datetime | None = None
    superseded: bool = False  # a renewal whose period a purchase replaced: refunded, not granted
    # plans: orders hand-overs to the SubscriptionWorkflow (STALE_PERIOD: the
    # period was replaced since, nothing to hand over; 0: unknown, from before it existed)
    sequence: int = 0


@dataclass
class ChargeInput:
    user_id: str
    plan_id: str
    key: str  # one payment per key (e.g. renewal:<user>:<period start>)
    registration_id: str
    initial_transaction_id: str
    brand: str = "VISA MASTER"
    kind: str = PaymentKind.renewal.value
    actor: str = "system"
    amount_fils: int = 0  # 0: the plan's price (upgrades pass the prorated amount)


@dataclass
class ChargeResult:
    payment_id: str
    status: str  # succeeded | failed | pending (HyperPay has not decided: ask again later)
    result_code: str = ""
    attempts: int = 0
    hard_decline: bool = False


@dataclass
class QuoteInput:
    user_id: str
    plan_id: str


@dataclass
class FulfilInput:
    payment_id: str
    period_start: datetime | None = None
    period_end: datetime | None = None  # None: a month after the start
    renews: str = ""  # renewals: the key that opened the period renewed (payments.overlap)


@dataclass
class NoticeInput:
    payment_id: str
    next_try: datetime | None = None  # None: the final failure


@dataclass
class EmailNotice:
    to: str
    locale: str
    context: dict[str, object]


def item_name(kind: str, item_id: str, locale: str) -> str:
    """The plan's or add-on's name in the recipient's language."""
    thing = get_addon(item_id) if kind == PaymentKind.addon.value else get_plan(item_id)
    return thing.name_en if locale == "en" else thing.name_ar


@dataclass
class PlanEnded:
    user_id: str
    key: str
    reason: str = "paid plan ended"
    extra: dict[str, str] = field(default_factory=dict)


def outcome_of(result: PaymentResult) -> ProviderOutcome:
    return ProviderOutcome(
        code=result.code,
        description=result.description,
        result_class=result.result_class.value,
        provider_payment_id=result.id,
        registration_id=result.registration_id,
        card_last4=result.card_last4,
    )


# result classes that are not an answer yet: the attempt is looked up again, never repeated
UNSETTLED = (ResultClass.pending.value, ResultClass.manual_review.value, ResultClass.temporary.value)


class PaymentActivities:
    def __init__(self, settings: Settings, db: Database, hyperpay: HyperPayClient) -> None:
        self.settings = settings
        self.db = db
        self.hyperpay = hyperpay

    def shopper_result_url(self, payment_id: str) -> str:
        secret = self.settings.secret_key.get_secret_value()
        return payments.return_url(self.settings.public_url, secret, payment_id)

    @activity.defn(name="payments.create_checkout")
    async def create_checkout(self, payment_id: str) -> CheckoutCreated:
        """Prepare the HyperPay checkout once (a retry returns the stored one). The attempt is
        committed before HyperPay is called, and no transaction stays open across the call."""
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            if payment.checkout_id:
                return self._created(payment.id, payment.checkout_id, payment.amount_fils, payment.brand)
            user = await payments.get_user(session, payment.user_id)
            attempt = await payments.new_attempt(session, payment)
            request = CheckoutRequest(
                amount_fils=payment.amount_fils,
                merchant_transaction_id=attempt.merchant_transaction_id,
                email=user.email,
                given_name=(user.name or "").split(" ")[0][:50],
                brand=Brand(payment.brand),
                create_registration=payment.kind == PaymentKind.plan.value,
            )
            attempt_id = attempt.id
        try:
            created = await self.hyperpay.prepare_checkout(request)
        except HyperPayUnavailable as error:
            raise transient(error) from error
        if created.code != "000.200.100" or not created.id:
            raise ApplicationError(
                f"checkout refused: {created.code} {created.description}",
                type="CheckoutRefused",
                non_retryable=created.result_class is not ResultClass.temporary,
            )
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            if payment.checkout_id:  # a concurrent attempt won: keep the first checkout
                return self._created(payment.id, payment.checkout_id, payment.amount_fils, payment.brand)
            stored = await payments.get_attempt(session, attempt_id)
            payment.checkout_id = created.id
            if stored is not None:
                stored.checkout_id = created.id
            payment.status = PaymentStatus.pending.value
            return self._created(payment.id, created.id, payment.amount_fils, payment.brand)

    def _created(self, payment_id: str, checkout_id: str, amount: int, brand: str) -> CheckoutCreated:
        return CheckoutCreated(
            payment_id, checkout_id, amount, brand, self.hyperpay.widget_script_url(checkout_id)
        )

    @activity.defn(name="payments.verify_checkout")
    async def verify_checkout(self, payment_id: str) -> Verification:
        """Ask HyperPay (server to server) what became of the checkout; record it."""
        return await self._verify(payment_id, reconcile=False)

    @activity.defn(name="payments.reconcile_checkout")
    async def reconcile_checkout(self, payment_id: str) -> Verification:
        """Like ``verify_checkout``, for a payment no longer awaited (expired, or its workflow
        gone): HyperPay's answer is recorded even over ``expired``, so a late success is kept."""
        return await self._verify(payment_id, reconcile=True)

    async def _verify(self, payment_id: str, *, reconcile: bool) -> Verification:
        async with self.db.session() as session:
            payment = await payments.get_payment(session, payment_id)
            attempt = await payments.last_attempt(session, payment_id)
            finished = payment.status in payments.FINAL
            if reconcile:
                finished = payment.status in (PaymentStatus.succeeded.value, PaymentStatus.refunded.value)
            if finished or not payment.checkout_id:
                return self._verification(payment)
            checkout, brand = payment.checkout_id, payment.brand
        result = await self._status(checkout, brand, attempt, by_reference=reconcile)
        if result is None:
            return Verification(payment_id, PaymentStatus.pending.value, EXPIRED_CHECKOUT)
        if result.result_class is ResultClass.temporary:
            raise transient(HyperPayUnavailable(f"{result.code} {result.description}"))
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            attempt = await payments.last_attempt(session, payment_id)
            payments.record_outcome(payment, attempt, outcome_of(result))
            log.info("payments.verified", payment_id=payment_id, code=result.code, status=payment.status)
            PAYMENTS.labels("checkout", str(payment.status)).inc()
            return self._verification(payment)

    async def _status(
        self, checkout_id: str, brand: str, attempt: PaymentAttempt | None, *, by_reference: bool = False
    ) -> PaymentResult | None:
        """The checkout's payment; after 200.300.404 (spent or expired), or when reconciling,
        look it up by reference."""
        try:
            if not by_reference:
                result = await self.hyperpay.payment_status(checkout_id, brand)
                if result.code != EXPIRED_CHECKOUT:
                    return result
            reference = attempt.merchant_transaction_id if attempt else ""
            found = await self.hyperpay.query(reference, brand) if reference else []
        except HyperPayUnavailable as error:
            raise transient(error) from error
        debits = [p for p in found if p.payment_type in ("DB", "PA")]
        return next((p for p in debits if p.ok), debits[-1] if debits else None)

    def _verification(self, payment: Payment) -> Verification:
        return Verification(
            payment_id=str(payment.id),
            status=str(payment.status),
            result_code=str(payment.result_code or ""),
            result_description=str(payment.result_description or ""),
        )

    @activity.defn(name="payments.expire_checkout")
    async def expire_checkout(self, payment_id: str) -> Verification:
        """The checkout's life is over: ask HyperPay once more by reference; only a payment
        still unpaid is marked expired (a late success webhook reconciles it, see
        ``reconcile_checkout``)."""
        last = await self._verify(payment_id, reconcile=True)
        if last.status == PaymentStatus.succeeded.value:
            return last
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            if payment.status not in payments.FINAL:
                payments.mark(payment, PaymentStatus.expired, EXPIRED_CHECKOUT, "checkout expired")
            return self._verification(payment)

    @activity.defn(name="payments.late_decision")
    async def late_decision(self, payment_id: str) -> str:
        """A payment that succeeded after it stopped being awaited: ``grant`` it, or ``refund``
        it when the user already has a plan bought later (so nobody pays twice for one month).
        Add-ons are always granted. A grant is made here, in the deciding transaction under
        the plan lock (``payments.decide_late``); the workflow's ``fulfil`` then finds it
        granted and sends the receipt. The decision is written to the audit log; idempotent."""
        async with self.db.session() as session:
            decision = await payments.decide_late(session, payment_id, utcnow())
            if decision != "refund":
                return decision
            payment = await payments.get_payment(session, payment_id)
            target = await payments.refund_target(session, payment)
            amount, brand = payment.amount_fils, payment.brand
        refund = await refund_once(self.hyperpay, *target, amount, brand)
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            await payments.mark_refunded(session, payment, refund.code, refund.ok)
            await payments.audit_late(session, payment, decision, refund_code=refund.code)
            if not refund.ok:
                await self._record_failed(session, payment, "late", payment.id, amount, refund)
        return decision

    @activity.defn(name="payments.fulfil")
    async def fulfil(self, data: FulfilInput) -> Fulfilment:
        """Grant the plan period or the add-on (idempotent by payment). A renewal whose period
        was replaced meanwhile is refunded instead; a plan granted over a period its price did
        not include refunds that period's unused part (``core.payments.overlap``). Refunds are
        sent after the granting transaction, exactly once."""
        async with self.db.session() as session:
            done = await payments.fulfil(
                session,
                data.payment_id,
                utcnow(),
                period_start=data.period_start,
                period_end=data.period_end,
                renews=data.renews,
            )
            user = await payments.get_user(session, done.payment.user_id)
            subscription = done.subscription
            fulfilment = Fulfilment(
                payment_id=done.payment.id,
                user_id=done.payment.user_id,
                kind=done.payment.kind,
                item_id=done.payment.item_id,
                amount_fils=done.payment.amount_fils,
                email=user.email,
                locale=user.locale,
                newly=done.newly,
                registration_id=done.payment.registration_id or "",
                initial_transaction_id=done.payment.initial_transaction_id or "",
                brand=done.payment.brand,
                period_end=subscription.current_period_end if subscription else None,
                item_name=item_name(done.payment.kind, done.payment.item_id, user.locale),
                period_start=subscription.current_period_start if subscription else None,
                superseded=done.superseded,
                sequence=done.sequence,
            )
        if done.superseded:
            await self._refund_superseded(data.payment_id)
        await self._refund_overlap(data.payment_id)
        return fulfilment

    async def _refund_superseded(self, payment_id: str) -> None:
        async with self.db.session() as session:
            payment = await payments.get_payment(session, payment_id)
            if payment.status != PaymentStatus.succeeded.value:
                return  # refunded already
            target = await payments.refund_target(session, payment)
            amount, brand = payment.amount_fils, payment.brand
        result = await refund_once(self.hyperpay, *target, amount, brand)
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            description = "refunded: the renewal settled after a purchase had replaced its period"
            await payments.mark_refunded(session, payment, result.code, result.ok, description)
            if not result.ok:
                await self._record_failed(session, payment, "superseded", payment.id, amount, result)
        log.info("payments.superseded_refund", payment_id=payment_id, code=result.code)

    async def _refund_overlap(self, payment_id: str) -> None:
        async with self.db.session() as session:
            refund = await overlap.pending_overlap(session, payment_id)
            if refund is None:
                return
            other = await payments.get_payment(session, refund.payment_id)
            target = await payments.refund_target(session, other)
            brand = other.brand
        result = await refund_once(self.hyperpay, *target, refund.amount_fils, brand)
        async with self.db.session() as session:
            await overlap.record_overlap_refunded(session, refund, result.code)
            if not result.ok:
                other = await payments.get_payment(session, refund.payment_id)
                await self._record_failed(
                    session, other, "overlap", refund.cause_id, refund.amount_fils, result
                )
        log.info(
            "payments.overlap_refund",
            payment_id=refund.payment_id,
            amount=refund.amount_fils,
            code=result.code,
        )

    @staticmethod
    async def _record_failed(
        session: AsyncSession, payment: Payment, cause: str, cause_id: str, amount: int, result: PaymentResult
    ) -> None:
        """HyperPay rejected a refund we owe: a record for support to retry (the console)."""
        await payments.record_failed_refund(
            session,
            payment,
            cause=cause,
            cause_id=cause_id,
            amount_fils=amount,
            code=result.code,
            description=result.description,
        )
        log.warning("payments.refund_rejected", payment_id=payment.id, cause=cause, code=result.code)

    @activity.defn(name="payments.charge")
    async def charge(self, data: ChargeInput) -> ChargeResult:
        """Charge the stored card (REPEATED/MIT), one payment per key.

        An attempt stays *the* attempt until HyperPay says it is final: an unanswered, pending
        or uncertain one is looked up by its merchantTransactionId (and answered ``pending``
        while HyperPay still has it pending: the workflow asks again later, within the
        2-a-minute query limit). A new attempt, with a new merchantTransactionId, is made only
        once the previous one is known to have failed, or HyperPay has no record of it."""
        plan = get_plan(data.plan_id)
        async with self.db.session() as session:
            payment = await payments.create_payment(
                session,
                data.user_id,
                payments.Item(PaymentKind(data.kind), plan.id, data.amount_fils or plan.price_fils),
                brand=data.brand,
                key=data.key,
                registration_id=data.registration_id,
                initial_transaction_id=data.initial_transaction_id,
            )
            payment_id, amount = payment.id, payment.amount_fils
            if payment.status == PaymentStatus.succeeded.value:
                return self._charged(payment)
            previous = await payments.last_attempt(session, payment.id)
        if previous is not None and previous.result_class in (None, *UNSETTLED):
            found = await self._lookup(previous.merchant_transaction_id, data.brand)
            if found is not None:
                return await self._record_charge(payment_id, previous.id, found)
            if previous.result_class == ResultClass.pending.value:  # HyperPay said pending: wait
                return await self._pending(payment_id)
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            attempt = await payments.new_attempt(session, payment, actor=data.actor)
            reference, attempt_id = attempt.merchant_transaction_id, attempt.id
        try:
            result = await self.hyperpay.charge_registration(
                data.registration_id, amount, reference, data.initial_transaction_id, data.brand
            )
        except HyperPayUnavailable as error:  # unanswered: the next call looks it up first
            raise transient(error) from error
        charged = await self._record_charge(payment_id, attempt_id, result)
        if result.result_class is ResultClass.temporary:  # uncertain: look it up next time
            raise transient(HyperPayUnavailable(f"{result.code} {result.description}"))
        return charged

    async def _lookup(self, reference: str, brand: str) -> PaymentResult | None:
        """HyperPay's record of an attempt: its final debit, else its pending one, else None."""
        try:
            found = await self.hyperpay.query(reference, brand)
        except HyperPayUnavailable as error:
            raise transient(error) from error
        debits = [p for p in found if p.payment_type == "DB"]
        final = [p for p in debits if p.result_class.value not in UNSETTLED]
        waiting = [p for p in debits if p.result_class.value in UNSETTLED[:2]]
        return final[-1] if final else waiting[-1] if waiting else None

    async def _pending(self, payment_id: str) -> ChargeResult:
        async with self.db.session() as session:
            return self._charged(await payments.get_payment(session, payment_id))

    async def _record_charge(self, payment_id: str, attempt_id: str, result: PaymentResult) -> ChargeResult:
        async with self.db.session() as session:
            payment = await payments.lock_payment(session, payment_id)
            attempt = await payments.get_attempt(session, attempt_id)
            payments.record_outcome(payment, attempt, outcome_of(result))
            log.info("payments.charged", payment_id=payment_id, code=result.code, status=payment.status)
            PAYMENTS.labels("renewal", str(payment.status)).inc()
            charged = self._charged(payment)
        charged.hard_decline = is_hard_decline(result.code)
        return charged

    def _charged(self, payment: Payment) -> ChargeResult:
        return ChargeResult(
            payment_id=str(payment.id),
            status=str(payment.status),
            result_code=str(payment.result_code or ""),
            attempts=int(payment.attempts),
        )

    @activity.defn(name="payments.quote_upgrade")
    async def quote_upgrade(self, data: QuoteInput) -> int:
        """The prorated amount (fils) of an upgrade now (see core.proration)."""
        async with self.db.session() as session:
            priced = await payments.upgrade_quote(session, data.user_id, data.plan_id)
        return priced.amount_fils

    @activity.defn(name="payments.end_plan")
    async def end_plan(self, data: PlanEnded) -> None:
        async with self.db.session() as session:
            await payments.end_paid_plan(session, data.user_id, data.key, utcnow())

    @activity.defn(name="payments.set_past_due")
    async def set_past_due(self, user_id: str, past_due: bool) -> None:
        async with self.db.session() as session:
            await payments.set_past_due(session, user_id, past_due)

    @activity.defn(name="payments.failure_notice")
    async def failure_notice(self, data: NoticeInput) -> EmailNotice:
        """What the payment_failed email says (next retry date in the user's language)."""
        async with self.db.session() as session:
            payment = await payments.get_payment(session, data.payment_id)
            user = await payments.get_user(session, payment.user_id)
        context: dict[str, object] = {
            "payment_id": payment.id,
            "amount": payment.amount_fils,
            "item_name": item_name(payment.kind, payment.item_id, user.locale),
            "result_code": payment.result_code or "",
            "final": data.next_try is None,
            "next_try_text": format_when(data.next_try, user.locale) if data.next_try else "",
        }
        return EmailNotice(user.email, user.locale, context)
