"""CheckoutWorkflow (id ``checkout-<payment>``): one HyperPay COPYandPAY payment.

create the checkout → wait for the webhook or the shopper's return (signals, whichever comes
first; the checkout's life is the limit) → verify server to server (pending results polled with
backoff, within HyperPay's two status calls a minute by default) → grant the plan period or the
add-on, idempotent by payment → receipt email → for a plan, start (or tell) the user's
SubscriptionWorkflow. The redirect and the webhook only wake the workflow; neither is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.payments import (
        STALE_PERIOD,
        CheckoutCreated,
        FulfilInput,
        Fulfilment,
        PaymentActivities,
        Verification,
    )
    from workflows import PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_PROVIDER, PULSE_USER_ID
    from workflows.payments_common import send_email, subscription_id
    from workflows.subscription import SubscriptionInput, SubscriptionWorkflow


@dataclass
class CheckoutInput:
    payment_id: str
    user_id: str
    timeout_s: float = 1800.0  # HyperPay checkouts live 30 minutes
    poll_initial_s: float = 30.0  # pending results: first re-check after this …
    poll_max_s: float = 300.0  # … then ×2 up to this
    retry_initial_s: float = 5.0  # HyperPay unavailable: activity retries start here
    subscription_period_s: float | None = None  # None: calendar months (tests use seconds)
    dunning_delays_s: list[float] = field(default_factory=lambda: [86400.0, 3 * 86400.0, 7 * 86400.0])
    # a later run for a payment no longer awaited (a success or pending webhook after expiry):
    # verify by reference, then grant it or refund it (``payments.late_decision``)
    reconcile: bool = False


@dataclass
class CheckoutResult:
    payment_id: str
    status: str
    result_code: str = ""


@workflow.defn(name="CheckoutWorkflow")
class CheckoutWorkflow:
    def __init__(self) -> None:
        self.created: CheckoutCreated | None = None
        self.failed_to_create = False
        self.woken = False
        self.signals: list[str] = []

    @workflow.signal
    def shopper_returned(self) -> None:
        self.woken = True
        self.signals.append("return")

    @workflow.signal
    def webhook_received(self) -> None:
        self.woken = True
        self.signals.append("webhook")

    @workflow.update
    async def checkout(self) -> CheckoutCreated:
        """Answers once the checkout exists (the API's update-with-start)."""
        await workflow.wait_condition(lambda: self.created is not None or self.failed_to_create)
        if self.created is None:
            raise ApplicationError("checkout could not be created", type="CheckoutRefused")
        return self.created

    @workflow.query
    def state(self) -> dict[str, object]:
        return {"checkout_id": self.created.checkout_id if self.created else None, "signals": self.signals}

    @workflow.run
    async def run(self, data: CheckoutInput) -> CheckoutResult:
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=data.retry_initial_s),
            maximum_interval=timedelta(seconds=max(data.retry_initial_s * 20, 60)),
            maximum_attempts=20,
        )
        if data.reconcile:
            self.failed_to_create = True  # nothing to prepare: the checkout is long gone
            verification = await self._reconcile(data, retry)
        else:
            await self._create(data, retry)
            verification = await self._settle(data, retry)
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(verification.status)])
        if verification.status == "succeeded" and await self._grant_late(data, retry):
            await self._fulfil(data, retry)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return CheckoutResult(data.payment_id, verification.status, verification.result_code)

    async def _create(self, data: CheckoutInput, retry: RetryPolicy) -> None:
        try:
            self.created = await workflow.execute_activity_method(
                PaymentActivities.create_checkout,
                data.payment_id,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=retry,
                summary="prepare HyperPay checkout",
            )
        except BaseException:
            self.failed_to_create = True
            raise

    async def _reconcile(self, data: CheckoutInput, retry: RetryPolicy) -> Verification:
        """A late webhook woke us: what HyperPay has for the payment's reference, polled while
        pending (a checkout's life more), then final."""
        deadline = workflow.now() + timedelta(seconds=data.timeout_s)
        delay = data.poll_initial_s
        while True:
            verification = await workflow.execute_activity_method(
                PaymentActivities.reconcile_checkout,
                data.payment_id,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=retry,
                summary="reconcile a late payment",
            )
            if verification.status != "pending" or workflow.now() >= deadline:
                return verification
            self.woken = False
            await self._wait(min(deadline, workflow.now() + timedelta(seconds=delay)))
            delay = min(delay * 2, data.poll_max_s)

    async def _grant_late(self, data: CheckoutInput, retry: RetryPolicy) -> bool:
        """Always grant in a normal run; a reconciling run asks for the recorded decision."""
        if not data.reconcile:
            return True
        decision = await workflow.execute_activity_method(
            PaymentActivities.late_decision,
            data.payment_id,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=retry,
            summary="grant or refund a late payment",
        )
        return decision == "grant"

    async def _settle(self, data: CheckoutInput, retry: RetryPolicy) -> Verification:
        """Wait for a signal, then verify; poll pending results until the checkout's life ends."""
        deadline = workflow.now() + timedelta(seconds=data.timeout_s)
        await self._wait(deadline)
        delay = data.poll_initial_s
        while True:
            verification = await self._verify(data.payment_id, retry)
            if verification.status != "pending":
                return verification
            if workflow.now() >= deadline:
                break
            self.woken = False
            await self._wait(min(deadline, workflow.now() + timedelta(seconds=delay)))
            delay = min(delay * 2, data.poll_max_s)
        return await workflow.execute_activity_method(
            PaymentActivities.expire_checkout,
            data.payment_id,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=retry,
        )

    async def _wait(self, until: datetime) -> None:
        remaining = (until - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(lambda: self.woken, timeout=timedelta(seconds=remaining))
            except TimeoutError:
                pass

    async def _verify(self, payment_id: str, retry: RetryPolicy) -> Verification:
        return await workflow.execute_activity_method(
            PaymentActivities.verify_checkout,
            payment_id,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=retry,
            summary="verify payment with HyperPay",
        )

    async def _fulfil(self, data: CheckoutInput, retry: RetryPolicy) -> None:
        done: Fulfilment = await workflow.execute_activity_method(
            PaymentActivities.fulfil,
            FulfilInput(data.payment_id),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=retry,
            summary="grant what was bought",
        )
        await send_email(
            f"email-receipt-{done.payment_id}",
            done.email,
            "payment_receipt",
            done.locale,
            {
                "amount": done.amount_fils,
                "item_name": done.item_name,
                "payment_id": done.payment_id,
            },
        )
        # a period replaced since it was granted (a later purchase, a late payment granted
        # again) is not handed over: the change that replaced it hands over its own
        if done.kind == "plan" and done.period_end is not None and done.sequence != STALE_PERIOD:
            period = data.subscription_period_s
            await start_subscription(
                SubscriptionInput(
                    user_id=done.user_id,
                    plan_id=done.item_id,
                    period_end=workflow.now() + timedelta(seconds=period) if period else done.period_end,
                    registration_id=done.registration_id,
                    initial_transaction_id=done.initial_transaction_id,
                    brand=done.brand,
                    period_s=data.subscription_period_s,
                    dunning_delays_s=list(data.dunning_delays_s),
                    retry_initial_s=data.retry_initial_s,
                    anchor=done.period_start,
                    pending_poll_s=data.poll_initial_s,
                    opened_by=f"payment:{done.payment_id}",
                    sequence=done.sequence,
                )
            )


async def start_subscription(data: SubscriptionInput) -> None:
    """Start the user's SubscriptionWorkflow, or hand the new plan to the running one."""
    try:
        await workflow.start_child_workflow(
            SubscriptionWorkflow.run,
            data,
            id=subscription_id(data.user_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"subscription {data.plan_id}",
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, data.user_id),
                    SearchAttributePair(PULSE_JOB_KIND, "subscription"),
                    SearchAttributePair(PULSE_PROVIDER, "hyperpay"),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        handle = workflow.get_external_workflow_handle(subscription_id(data.user_id))
        await handle.signal(SubscriptionWorkflow.plan_purchased, data)
