"""SubscriptionWorkflow (id ``subscription-<user>``): one paid subscription's renewals.

At period end charge the stored card (REPEATED/MIT) → success opens the next period with its
grants and continues as new; failure starts dunning (retries at the given offsets after the
failure, an email each time; support can retry early through ``retry_payment``) → the final
failure moves the user to Free. ``cancel`` ends the plan at period end; ``change_plan``
upgrades now (charged on the stored card) or downgrades at period end. Every duration is an
input, so tests run renewals in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.payments import (
        ChargeInput,
        ChargeResult,
        FulfilInput,
        NoticeInput,
        PaymentActivities,
        PlanEnded,
        QuoteInput,
    )
    from core.dates import add_months
    from core.plans import get_plan
    from workflows.payments_common import send_email

FAILED_EMAIL = "payment_failed"
# a support retry that arrives while a dunning charge is at HyperPay is answered by that charge
# (and no longer also triggers one more charge right after it)
RETRY_ANSWERED_BY_RUNNING_CHARGE = "retry-answered-by-running-charge"
RECEIPT_EMAIL = "payment_receipt"
# a plan handed over (``plan_purchased``) while a renewal or an upgrade was being granted is
# kept when its grant is newer, and the upgrade is written onto it when the upgrade's is
HAND_OVER_DURING_GRANT = "hand-over-during-grant"


@dataclass
class SubscriptionInput:
    user_id: str
    plan_id: str
    period_end: datetime
    registration_id: str
    initial_transaction_id: str
    brand: str = "VISA MASTER"
    period_s: float | None = None  # None: the ledger's calendar month
    dunning_delays_s: list[float] = field(default_factory=lambda: [86400.0, 3 * 86400.0, 7 * 86400.0])
    retry_initial_s: float = 5.0
    cancel_at_period_end: bool = False
    next_plan_id: str | None = None
    pending_poll_s: float = 30.0  # a pending charge is looked up again after this (x2)
    # calendar periods: the first period's start and how many periods since it, so that a plan
    # bought on Jan 31 renews on Feb 28, then Mar 31 (no drift to the 28th)
    anchor: datetime | None = None
    periods: int = 1
    # the key that opened the current period (``payment:<id>``): a renewal settling after
    # another payment replaced that period is refunded, not granted ("" : not checked)
    opened_by: str = ""
    superseded_wait_s: float = 600.0  # then end the run: the repair restarts it from the database
    # the user's plan-lock counter when this period was granted or read from the database
    # (core.subscriptions.plan_sequence): a hand-over older than the period the workflow has is
    # ignored, whatever order two close purchases' signals arrive in (0: unknown, always taken)
    sequence: int = 0


@dataclass
class RetryRequest:
    actor_id: str
    payment_id: str = ""


@dataclass
class RetryOutcome:
    payment_id: str
    status: str
    result_code: str = ""


@dataclass
class PlanChange:
    plan_id: str
    actor_id: str = "user"
    key: str = ""  # the client's Idempotency-Key: one charge per key


@dataclass
class SubscriptionState:
    plan_id: str
    period_end: datetime
    status: str  # active | dunning | ended
    cancel_at_period_end: bool
    next_plan_id: str | None
    failed_payment_id: str = ""


@workflow.defn(name="SubscriptionWorkflow")
class SubscriptionWorkflow:
    def __init__(self) -> None:
        self.data: SubscriptionInput | None = None
        self.status = "active"
        self.interrupted = False
        self.retry_by: str | None = None
        self.retries_done = 0
        self.last_charge: ChargeResult | None = None
        self.failed_payment_id = ""
        self.fulfilled_payment_id = ""
        self.changing: str | None = None  # the key of the plan change under way (one at a time)
        self.changes_done: list[str] = []  # idempotency keys of finished changes
        self.purchased = False  # a checkout bought a new plan: dunning ends
        self.renewing = False  # the renewal charge is under way: plan changes wait (409)
        self.superseded_payment_id = ""  # a renewal refunded because a purchase replaced its period
        self.opened_sequence = 0  # the plan-lock counter of the last period this run granted

    # --- messages -------------------------------------------------------------------------

    @workflow.signal
    def cancel(self) -> None:
        """End the plan at period end (no more renewals)."""
        if self.data is not None:
            self.data.cancel_at_period_end = True

    @workflow.signal
    def resume(self) -> None:
        if self.data is not None:
            self.data.cancel_at_period_end = False

    @workflow.signal
    def plan_purchased(self, data: SubscriptionInput) -> None:
        """A new plan was paid through a checkout: it replaces the current period, and ends
        any dunning (the failed renewal is not charged again; the new period is already granted).
        A hand-over older than the period already held (a slower signal) is ignored."""
        if self.data is not None and data.sequence and data.sequence < self.data.sequence:
            workflow.logger.info("stale plan hand-over ignored: %s", data.opened_by)
            return
        self.data = data
        self.interrupted = True
        self.purchased = True

    @workflow.update
    async def change_plan(self, change: PlanChange) -> SubscriptionState:
        """Downgrades wait for period end; upgrades are charged now on the stored card, once
        per idempotency key, one at a time."""
        assert self.data is not None
        data = self.data
        if change.key and change.key == self.changing:  # the same click again: its answer
            await workflow.wait_condition(lambda: self.changing != change.key)
        if change.key and change.key in self.changes_done:
            return self.state()
        if get_plan(change.plan_id).price_fils <= get_plan(data.plan_id).price_fils:
            data.next_plan_id = change.plan_id
            self._done(change.key)
            return self.state()
        self.changing = change.key or "-"
        try:
            key = f"upgrade:{data.user_id}:{change.key or workflow.now().isoformat()}"
            amount = await workflow.execute_activity_method(
                PaymentActivities.quote_upgrade,
                QuoteInput(data.user_id, change.plan_id),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=self._retry(),
                summary="prorate the upgrade",
            )
            charged = await self._settled_charge(change.plan_id, key, "upgrade", amount_fils=amount)
            if charged.status == "succeeded":
                now = workflow.now()
                period_end = await self._open_period(charged, now)
                assert period_end is not None  # only renewals are superseded
                data = self._upgraded(data)
                data.period_end, data.opened_by = period_end, f"payment:{charged.payment_id}"
                data.plan_id, data.next_plan_id, data.anchor, data.periods = change.plan_id, None, now, 1
                data.sequence = max(data.sequence, self.opened_sequence)
                self.interrupted = True
        finally:
            self._done(change.key)
            self.changing = None
        return self.state()

    def _done(self, key: str) -> None:
        if key:
            self.changes_done = [*self.changes_done[-19:], key]

    @change_plan.validator
    def _validate_change(self, change: PlanChange) -> None:
        get_plan(change.plan_id)
        if self.data is None or self.status != "active" or change.plan_id == "free":
            raise ValueError("plan changes need an active paid subscription")
        if (self.changing is not None and change.key != self.changing) or self.renewing:
            raise ApplicationError("a plan change is already in progress", type="ChangeInProgress")

    @workflow.update
    async def retry_payment(self, request: RetryRequest) -> RetryOutcome:
        """Support: charge the failed renewal again now (replaces the next scheduled retry).

        A success is answered once the new period's grants exist, so the agent can tell the
        user their quota is back as soon as the console says "succeeded".
        """
        done = self.retries_done
        self.retry_by = request.actor_id
        await workflow.wait_condition(
            lambda: self.retries_done > done or self.purchased or self.status == "ended"
        )
        if self.retries_done == done and self.status == "ended":  # after the final try: none left
            last = self.last_charge
            return RetryOutcome(self.failed_payment_id, "failed", last.result_code if last else "")
        if self.retries_done == done:  # a plan bought meanwhile ended dunning
            return RetryOutcome(self.failed_payment_id, "superseded")
        charged = self.last_charge
        assert charged is not None
        if charged.status == "succeeded":
            paid = charged.payment_id
            await workflow.wait_condition(
                lambda: paid in (self.fulfilled_payment_id, self.superseded_payment_id)
            )
            if paid == self.superseded_payment_id:  # a purchase replaced the period: refunded
                return RetryOutcome(paid, "superseded", charged.result_code)
        return RetryOutcome(charged.payment_id, charged.status, charged.result_code)

    @retry_payment.validator
    def _validate_retry(self, request: RetryRequest) -> None:
        # a retry already asked for (or a charge under way) is joined: one charge answers both
        if self.status != "dunning":
            raise ValueError("no failed renewal is waiting for a retry")
        if request.payment_id and request.payment_id != self.failed_payment_id:
            raise ValueError("that payment is not the one being retried")

    @workflow.query
    def state(self) -> SubscriptionState:
        assert self.data is not None
        return SubscriptionState(
            plan_id=self.data.plan_id,
            period_end=self.data.period_end,
            status=self.status,
            cancel_at_period_end=self.data.cancel_at_period_end,
            next_plan_id=self.data.next_plan_id,
            failed_payment_id=self.failed_payment_id,
        )

    # --- the period loop ------------------------------------------------------------------

    @workflow.run
    async def run(self, data: SubscriptionInput) -> str:
        self.data = data
        await self._until_period_end()
        data = self.data
        if data.cancel_at_period_end:
            await self._end(f"cancelled:{data.user_id}:{data.period_end.isoformat()}")
            return "cancelled"
        if not data.registration_id:  # a period set by support, no card on file: it just ends
            await self._end(f"no-card:{data.user_id}:{data.period_end.isoformat()}")
            return "ended"
        plan_id = data.next_plan_id or data.plan_id
        key = f"renewal:{data.user_id}:{data.period_end.isoformat()}"
        self.purchased = False
        charged = await self._settled_charge(plan_id, key, "renewal")
        if charged.status != "succeeded":
            if self.purchased:  # bought while the renewal was being charged: no dunning
                return await self._restart_after_purchase()
            dunned = await self._dunning(plan_id, key, charged)
            if dunned is None:  # a plan bought meanwhile: its period is already granted
                return await self._restart_after_purchase()
            charged = dunned
        if charged.status != "succeeded":
            await self._end(f"dunning-final:{charged.payment_id}")
            return "ended"
        period_end = await self._open_period(
            charged, data.period_end, self._anchored_end(data), renews=data.opened_by
        )
        if period_end is None:  # a purchase replaced the period while it was charged: refunded
            return await self._after_superseded()
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._newer_hand_over(data) and workflow.patched(HAND_OVER_DURING_GRANT):
            assert self.data is not None  # bought while the renewal was granted: the purchase's
            workflow.continue_as_new(self.data)  # fulfil refunded what it overlapped of it
        workflow.continue_as_new(self._next_input(data, plan_id, period_end, charged.payment_id))

    def _newer_hand_over(self, data: SubscriptionInput) -> bool:
        """``plan_purchased`` replaced ``data`` with a period granted after this run's last grant
        (a hand-over of unknown order, sequence 0, is taken, as ``plan_purchased`` takes it)."""
        current = self.data
        return (
            current is not None
            and current is not data
            and (current.sequence == 0 or current.sequence > self.opened_sequence)
        )

    def _upgraded(self, data: SubscriptionInput) -> SubscriptionInput:
        """Where the upgrade just granted is written: onto the plan a checkout handed over while
        it was charged when the upgrade's grant is the newer one (that checkout's unused part
        was refunded by the upgrade's fulfil); onto ``data`` otherwise (a newer hand-over stays)."""
        current = self.data
        assert current is not None
        if current is data or current.sequence > self.opened_sequence:
            return data
        return current if workflow.patched(HAND_OVER_DURING_GRANT) else data

    def _anchored_end(self, data: SubscriptionInput) -> datetime | None:
        """The end of the period after the current one, counted from the anchor (calendar
        months keep their day where the month has it: Jan 31 → Feb 28 → Mar 31)."""
        if data.period_s or data.anchor is None:
            return None
        return add_months(data.anchor, data.periods + 1)

    def _next_input(
        self, data: SubscriptionInput, plan_id: str, period_end: datetime, payment_id: str
    ) -> SubscriptionInput:
        return SubscriptionInput(
            user_id=data.user_id,
            plan_id=plan_id,
            period_end=period_end,
            registration_id=data.registration_id,
            initial_transaction_id=data.initial_transaction_id,
            brand=data.brand,
            period_s=data.period_s,
            dunning_delays_s=data.dunning_delays_s,
            retry_initial_s=data.retry_initial_s,
            cancel_at_period_end=data.cancel_at_period_end,
            pending_poll_s=data.pending_poll_s,
            anchor=data.anchor,
            periods=data.periods + 1,
            opened_by=f"payment:{payment_id}",
            superseded_wait_s=data.superseded_wait_s,
            sequence=max(data.sequence, self.opened_sequence),
        )

    async def _restart_after_purchase(self) -> str:
        """Dunning ended by a purchase: clear past-due and go on with the purchased plan."""
        self.status = "active"
        await self._past_due(False)
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self.data is not None
        workflow.continue_as_new(self.data)

    async def _after_superseded(self) -> str:
        """The renewal was refunded because a purchase (or support) replaced its period: go on
        with the purchase's period, handed over by ``plan_purchased``. Without it in time, end
        this run: the subscription repair starts a new one from the database."""
        assert self.data is not None
        try:
            await workflow.wait_condition(
                lambda: self.purchased,
                timeout=timedelta(seconds=self.data.superseded_wait_s),
                timeout_summary="the purchase that replaced the period",
            )
        except TimeoutError:
            await workflow.wait_condition(workflow.all_handlers_finished)
            return "superseded"
        return await self._restart_after_purchase()

    async def _until_period_end(self) -> None:
        """Wait for period end; a plan change still under way then finishes first (it may move
        the period), and the renewal that follows refuses new changes until it is settled."""
        while True:
            assert self.data is not None
            self.interrupted = False
            remaining = (self.data.period_end - workflow.now()).total_seconds()
            if remaining > 0:
                try:
                    await workflow.wait_condition(
                        lambda: self.interrupted,
                        timeout=timedelta(seconds=remaining),
                        timeout_summary="period end",
                    )
                    continue
                except TimeoutError:
                    pass
            if self.changing is None:
                self.renewing = True
                return
            await workflow.wait_condition(lambda: self.changing is None)

    def _retry(self) -> RetryPolicy:
        assert self.data is not None
        initial = self.data.retry_initial_s
        return RetryPolicy(
            initial_interval=timedelta(seconds=initial),
            maximum_interval=timedelta(seconds=max(initial * 20, 60)),
            maximum_attempts=20,
        )

    async def _charge(
        self, plan_id: str, key: str, kind: str, actor: str = "system", amount_fils: int = 0
    ) -> ChargeResult:
        assert self.data is not None
        return await workflow.execute_activity_method(
            PaymentActivities.charge,
            ChargeInput(
                user_id=self.data.user_id,
                plan_id=plan_id,
                key=key,
                registration_id=self.data.registration_id,
                initial_transaction_id=self.data.initial_transaction_id,
                brand=self.data.brand,
                kind=kind,
                actor=actor,
                amount_fils=amount_fils,
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=self._retry(),
            summary=f"charge {kind}",
        )

    async def _settled_charge(
        self, plan_id: str, key: str, kind: str, actor: str = "system", amount_fils: int = 0
    ) -> ChargeResult:
        """Charge, then ask again about the same attempt while HyperPay answers pending
        (every ``pending_poll_s``, doubling to an hour: within its 2-a-minute query limit)."""
        assert self.data is not None
        charged = await self._charge(plan_id, key, kind, actor, amount_fils)
        delay = self.data.pending_poll_s
        while charged.status == "pending":
            await workflow.sleep(timedelta(seconds=delay), summary="payment pending at HyperPay")
            charged = await self._charge(plan_id, key, kind, actor, amount_fils)
            delay = min(delay * 2, 3600.0)
        return charged

    async def _open_period(
        self, charged: ChargeResult, start: datetime, end: datetime | None = None, renews: str = ""
    ) -> datetime | None:
        """Grant the paid period from ``start`` (to ``end``, default a month); returns the next
        renewal time, or None for a renewal superseded by a purchase (refunded, not granted)."""
        assert self.data is not None
        done = await workflow.execute_activity_method(
            PaymentActivities.fulfil,
            FulfilInput(charged.payment_id, period_start=start, period_end=end, renews=renews),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=self._retry(),
            summary="open the next period",
        )
        if done.superseded:
            self.superseded_payment_id = done.payment_id
            return None
        self.fulfilled_payment_id = done.payment_id
        self.opened_sequence = done.sequence
        await send_email(
            f"email-receipt-{done.payment_id}",
            done.email,
            RECEIPT_EMAIL,
            done.locale,
            {
                "amount": done.amount_fils,
                "item_name": done.item_name,
                "payment_id": done.payment_id,
            },
        )
        if self.data.period_s:
            return start + timedelta(seconds=self.data.period_s)
        assert done.period_end is not None
        return done.period_end

    async def _dunning(self, plan_id: str, key: str, charged: ChargeResult) -> ChargeResult | None:
        """Retry at each offset after the failure (or when support asks), an email each time.
        ``None``: a plan was bought meanwhile, which ends dunning without charging again."""
        assert self.data is not None
        self.status, self.failed_payment_id = "dunning", charged.payment_id
        await self._past_due(True)
        failed_at = workflow.now()
        for number, offset in enumerate(self.data.dunning_delays_s, start=1):
            next_try = failed_at + timedelta(seconds=offset)
            await self._failed_email(charged, number, next_try)
            remaining = (next_try - workflow.now()).total_seconds()
            if remaining > 0:
                try:
                    await workflow.wait_condition(
                        lambda: self.retry_by is not None or self.purchased,
                        timeout=timedelta(seconds=remaining),
                        timeout_summary=f"dunning retry {number}",
                    )
                except TimeoutError:
                    pass
            if self.purchased:
                return None
            actor, self.retry_by = self.retry_by or "system", None
            charged = await self._settled_charge(plan_id, key, "renewal", actor)
            self.last_charge, self.retries_done = charged, self.retries_done + 1
            if workflow.patched(RETRY_ANSWERED_BY_RUNNING_CHARGE):
                self.retry_by = None  # asked during this charge: answered by it, not charged again
            if charged.status == "succeeded":
                self.status = "active"
                await self._past_due(False)
                return charged
        self.status = "ended"  # no try left: a retry asked now is answered, not left waiting
        await self._failed_email(charged, 0, None)
        return charged

    async def _failed_email(self, charged: ChargeResult, number: int, next_try: datetime | None) -> None:
        notice = await workflow.execute_activity_method(
            PaymentActivities.failure_notice,
            NoticeInput(charged.payment_id, next_try),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=self._retry(),
        )
        email_id = f"email-payment-failed-{charged.payment_id}-{number or 'final'}"
        await send_email(email_id, notice.to, FAILED_EMAIL, notice.locale, notice.context)

    async def _past_due(self, past_due: bool) -> None:
        assert self.data is not None
        await workflow.execute_activity_method(
            PaymentActivities.set_past_due,
            args=[self.data.user_id, past_due],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=self._retry(),
        )

    async def _end(self, key: str) -> None:
        assert self.data is not None
        self.status = "ended"
        await workflow.execute_activity_method(
            PaymentActivities.end_plan,
            PlanEnded(self.data.user_id, key),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=self._retry(),
            summary="move to Free",
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
