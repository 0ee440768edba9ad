"""ChatTurnWorkflow (id ``chat-turn-<turn>``): reserve → stream → settle → done, and on any
failure or stop: release what was not used, record the error, publish it.

Stop cancels the workflow; the stream activity (cancellation type WAIT_CANCELLATION_COMPLETED)
closes the upstream call, stores the partial reply and reports its usage, which is billed.

Under faults (docs/chat.md "Faults"): bookkeeping steps retry without a maximum, at most
``bookkeeping_retry_cap_s`` apart, so an outage delays a turn but never fails its workflow; a
reply that was stored is settled whatever failed after it; a Stop during the reserve step
still ends the turn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.chat import (
        ChatActivities,
        FailInput,
        FinishFailedInput,
        FinishFailedResult,
        FinishStoppedInput,
        FinishStoppedResult,
        SettleReplyInput,
        StreamInput,
        StreamResult,
    )
    from activities.ledger import ReleaseInput, ReserveInput, ReserveResult
    from workflows import PULSE_JOB_STATUS

T = TypeVar("T")
FINISH_STOPPED_PATCH = "stopped-turn-billed-from-stored-reply"
FAULTS_PATCH = "turn-finishes-under-faults"  # stored reply settled on failure; Stop during reserve
LEDGER_TIMEOUT = timedelta(seconds=15)
# The stream activity decides itself when to give up (provider errors: after a few attempts;
# infrastructure errors: after the outage budget); this maximum is only a backstop.
STREAM_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=100,
    non_retryable_error_types=["provider_rejected", "moderation_blocked", "model_unavailable"],
)
# What a turn's workflow and activities decode (their type adapters are built at start-up).
PAYLOAD_TYPES: tuple[type, ...] = (
    FailInput,
    FinishFailedInput,
    FinishFailedResult,
    FinishStoppedInput,
    FinishStoppedResult,
    ReleaseInput,
    ReserveInput,
    ReserveResult,
    SettleReplyInput,
    StreamInput,
    StreamResult,
)
ERROR_CODES = {
    "quota_exceeded": "quota_exceeded",
    "moderation_blocked": "moderation_blocked",
    "model_unavailable": "model_unavailable",
    "service_unavailable": "service_unavailable",
}


def bookkeeping_retry(cap_s: float, *non_retryable: str) -> RetryPolicy:
    """Ledger, job status, final event: retried without a maximum, at most ``cap_s`` apart."""
    return RetryPolicy(
        initial_interval=timedelta(milliseconds=200),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=cap_s),
        maximum_attempts=0,
        non_retryable_error_types=list(non_retryable),
    )


@dataclass
class ChatTurnInput:
    turn_id: str
    user_id: str
    model: str
    provider: str
    max_output_tokens: int
    input_tokens_estimate: int
    token_weight: float
    min_output_tokens: int
    moderate: bool
    locale: str
    stream_queue: str | None = None  # None: the workflow's own queue (eager when possible)
    bookkeeping_retry_cap_s: float = 10.0  # settings.chat_bookkeeping_retry_cap_seconds
    heartbeat_timeout_s: float = 5.0  # settings.chat_heartbeat_timeout_seconds
    outage_budget_s: float = 120.0  # settings.chat_outage_budget_seconds
    stateless: bool = False  # an OpenAI-API turn: no stored conversation (core.apiturns)


@dataclass
class ChatTurnResult:
    status: str  # succeeded | stopped | failed
    studio_tokens: int = 0
    error_code: str | None = None


TURN_TYPES: tuple[type, ...] = (ChatTurnInput, ChatTurnResult, *PAYLOAD_TYPES)


# Unsandboxed: the hot path (2–3 workflow tasks per turn) pays 7–17 ms per task in the sandbox
# and 2–7 ms without it (DESIGN "Latency"). The code is plain orchestration over workflow.* APIs.
@workflow.defn(name="ChatTurnWorkflow", sandboxed=False)
class ChatTurnWorkflow:
    def __init__(self) -> None:
        self._retry = bookkeeping_retry(10.0)

    @workflow.run
    async def run(self, data: ChatTurnInput) -> ChatTurnResult:
        key = f"chat-turn-{data.turn_id}"
        self._retry = bookkeeping_retry(data.bookkeeping_retry_cap_s)
        faults_handled = workflow.patched(FAULTS_PATCH)
        try:
            reserved, stop_during_reserve = await self._reserve(data, key, uncancellable=faults_handled)
        except (ActivityError, ApplicationError) as error:  # local activities raise the cause itself
            if faults_handled and _cancelled(error):  # the SDK cancelled the reserve for a Stop
                return await self._finish_stopped(data, key)
            return await self._fail(data, _error_code(error), key, release=False)
        if stop_during_reserve:
            return await self._finish_stopped(data, key)
        output_cap = _output_cap(data, reserved)
        try:
            result = await workflow.execute_activity_method(
                ChatActivities.stream_reply,
                StreamInput(
                    data.turn_id,
                    data.model,
                    output_cap,
                    data.moderate,
                    outage_budget_s=data.outage_budget_s,
                    stateless=data.stateless,
                ),
                task_queue=data.stream_queue,
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(seconds=data.heartbeat_timeout_s),
                retry_policy=STREAM_RETRY,
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                summary=f"stream {data.model}",
            )
        except ActivityError as error:
            if faults_handled:
                return await self._finish_failed(data, _error_code(error), key)
            return await self._fail(data, _error_code(error), key, release=True)
        except (asyncio.CancelledError, CancelledError):
            return await self._finish_stopped(data, key)
        return await self._settle_and_finish(data, key, result)

    async def _finish_failed(self, data: ChatTurnInput, code: str, key: str) -> ChatTurnResult:
        """The stream step failed: a reply it stored anyway is settled (it was kept and shown),
        else the reservation is released and the error recorded and published."""
        finished: FinishFailedResult = await _uncancellable(
            workflow.execute_local_activity_method(
                ChatActivities.finish_failed,
                FinishFailedInput(data.turn_id, key, code, data.locale, data.model),
                start_to_close_timeout=LEDGER_TIMEOUT,
                retry_policy=self._retry,
            )
        )
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(finished.status)])
        return ChatTurnResult(finished.status, finished.studio_tokens, finished.error_code)

    async def _finish_stopped(self, data: ChatTurnInput, key: str) -> ChatTurnResult:
        """Stop cancelled the workflow: bill what the stream activity stored (see
        ChatActivities.finish_stopped for why it is read from the database)."""
        if not workflow.patched(FINISH_STOPPED_PATCH):  # turns started before this change
            return await self._fail(data, "cancelled", key, release=True)
        finished: FinishStoppedResult = await _uncancellable(
            workflow.execute_local_activity_method(
                ChatActivities.finish_stopped,
                FinishStoppedInput(data.turn_id, key, data.model, data.stateless),
                start_to_close_timeout=LEDGER_TIMEOUT,
                retry_policy=self._retry,
            )
        )
        status = "stopped" if finished.stopped else "succeeded"
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(status)])
        return ChatTurnResult(status=status, studio_tokens=finished.studio_tokens)

    async def _reserve(
        self, data: ChatTurnInput, key: str, *, uncancellable: bool
    ) -> tuple[ReserveResult, bool]:
        """Hold the quota. A Stop meanwhile does not interrupt it (the hold may already be
        committed): it is remembered, and the turn then ends stopped with the hold released."""
        amount = _studio(data.input_tokens_estimate + data.max_output_tokens, data.token_weight)
        minimum = _studio(data.input_tokens_estimate + data.min_output_tokens, data.token_weight)
        reserving = workflow.execute_local_activity(
            "ledger.reserve",
            ReserveInput(
                user_id=data.user_id,
                unit="tokens",
                amount=amount,
                key=key,
                job_id=data.turn_id,
                workflow_id=workflow.info().workflow_id,
                min_amount=min(minimum, amount),
            ),
            result_type=ReserveResult,
            start_to_close_timeout=LEDGER_TIMEOUT,
            retry_policy=(
                bookkeeping_retry(data.bookkeeping_retry_cap_s, "quota_exceeded")
                if uncancellable
                else RetryPolicy(maximum_attempts=10, non_retryable_error_types=["quota_exceeded"])
            ),
        )
        if not uncancellable:
            return await reserving, False
        task = asyncio.ensure_future(reserving)
        stopped = False
        while True:
            try:
                return await asyncio.shield(task), stopped
            except asyncio.CancelledError:
                stopped = True
                if task.done():
                    return task.result(), stopped

    async def _settle_and_finish(self, data: ChatTurnInput, key: str, result: StreamResult) -> ChatTurnResult:
        await _uncancellable(
            workflow.execute_local_activity_method(
                ChatActivities.settle,
                SettleReplyInput(
                    data.turn_id,
                    key,
                    result.studio_tokens,
                    result.input_tokens,
                    result.output_tokens,
                    result.stopped,
                    data.model,
                ),
                start_to_close_timeout=LEDGER_TIMEOUT,
                retry_policy=self._retry,
            )
        )
        status = "stopped" if result.stopped else "succeeded"
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(status)])
        return ChatTurnResult(status=status, studio_tokens=result.studio_tokens)

    async def _fail(self, data: ChatTurnInput, code: str, key: str, *, release: bool) -> ChatTurnResult:
        if release:
            await _uncancellable(
                workflow.execute_local_activity(
                    "ledger.release",
                    ReleaseInput(key=key),
                    start_to_close_timeout=LEDGER_TIMEOUT,
                    retry_policy=self._retry,
                )
            )
        await _uncancellable(
            workflow.execute_local_activity_method(
                ChatActivities.fail,
                FailInput(data.turn_id, code, data.locale, data.model),
                start_to_close_timeout=LEDGER_TIMEOUT,
                retry_policy=self._retry,
            )
        )
        status = "stopped" if code == "cancelled" else "failed"
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(status)])
        return ChatTurnResult(status=status, error_code=None if code == "cancelled" else code)


async def _uncancellable(awaitable: Awaitable[T]) -> T:
    """Ledger and bookkeeping steps finish even when a Stop (cancel) arrives meanwhile."""
    task = asyncio.ensure_future(awaitable)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()


def _studio(provider_tokens: int, weight: float) -> int:
    return max(1, -(-int(provider_tokens * weight * 1000) // 1000))


def _output_cap(data: ChatTurnInput, reserved: ReserveResult) -> int:
    """When the reservation was reduced, the output cap shrinks to what it covers."""
    if not reserved.reduced:
        return data.max_output_tokens
    covered = int(reserved.amount / data.token_weight) - data.input_tokens_estimate
    return max(data.min_output_tokens, min(data.max_output_tokens, covered))


def _cancelled(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, CancelledError):
            return True
        cause = cause.cause if isinstance(cause, FailureError) else None
    return False


def _error_code(error: BaseException) -> str:
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause if isinstance(cause, FailureError) else None
    if isinstance(cause, ApplicationError) and cause.type in ERROR_CODES:
        return ERROR_CODES[cause.type]
    return "provider_error"
