"""The job pipeline's workflow side: the saga every document/media job runs, and the
submit/await helper for provider jobs that run long. A helper and conventions, not a framework.

How a new job kind uses it (the recipe is in docs/storage.md, "The job pipeline"): its workflow
builds a ``JobSaga`` for its job and returns ``await saga.run(work)``, where ``work`` reserves
(``saga.reserve(unit, amount)``), announces steps (``saga.step(name)``), calls its activities and
returns a ``JobResult(outputs, usage)``. A kind whose provider job runs long keeps a
``ProviderJob`` in the workflow, feeds it the ``PROVIDER_UPDATE`` signal a verified webhook sends,
and calls ``submit_and_await(submit, data, poll)``: submitted once, then awaited by signal or
polling. ``workflows/file_scan.py`` is the smallest user; ``workflows/images.py`` uses all of it.

``saga.run`` marks the job running (a job whose row already has its outcome, e.g. failed by the
job sweeper while the API's start was delayed, is not run: nothing reserved or charged), runs
``work``, then settles each reservation with ``JobResult.usage`` and records ``succeeded`` with
the outputs (a ``done`` event). Any failure (an activity error, ``JobFailed(code)``) or a cancel
(``POST /v1/jobs/{id}/cancel``) releases every reservation, records the error and publishes an
``error`` event. Bookkeeping (job row, events, ledger) runs as local activities retried without
a maximum at a bounded interval, and finishes even when a cancel arrives meanwhile, so an outage
delays a job but never fails it.
Once ``work`` returned (its outputs are stored), the job is settled whatever happens next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.jobs import FinishInput, JobRef, OutputRef, StepInput, StepResult
    from activities.ledger import ReleaseInput, ReserveInput, ReserveResult, SettleInput, SettleOutput
    from workflows import PULSE_JOB_STATUS

T = TypeVar("T")
PROVIDER_UPDATE = "provider_update"  # the signal a verified webhook sends (signal_provider_update)
SUBMIT_OUTLIVES_CANCEL = "submit-outlives-cancel"  # workflow.patched: see ProviderJob._submit
# A poll is one GET. Its result is lost when Temporal is down as the poll ends (the worker
# cannot report it); the server then waits this long before it polls again.
POLL_TIMEOUT = timedelta(seconds=30)
BOOKKEEPING_TIMEOUT = timedelta(seconds=15)
# DESIGN fault rules: bookkeeping retries without a maximum, at a bounded interval
BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
)
RESERVE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=0,
    non_retryable_error_types=["quota_exceeded", "invalid_amount"],
)
# Errors a kind's activities raise as ApplicationError(type=code, non_retryable=True) whose code
# is kept as the job's error code; anything else reads as provider_error.
FINISHED = frozenset({"succeeded", "failed", "cancelled"})  # a job row's outcomes
KNOWN_ERROR_CODES = frozenset(
    {"quota_exceeded", "content_refused", "provider_timeout", "provider_error", "invalid_input"}
)

__all__ = [
    "PROVIDER_UPDATE",
    "JobFailed",
    "JobOutcome",
    "JobRef",
    "JobResult",
    "JobSaga",
    "OutputRef",
    "ProviderJob",
    "ProviderUpdate",
    "error_code",
    "uncancellable",
]


class JobFailed(Exception):
    """Raise inside ``work`` to end the job as failed with ``code`` (and an English message)."""

    def __init__(self, code: str, message: str | None = None, **result: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.result = result


@dataclass
class JobResult:
    outputs: list[OutputRef] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)  # actual, per reserved unit
    result: dict[str, Any] = field(default_factory=dict)  # extra fields of the done event


@dataclass
class JobOutcome:
    status: str  # succeeded | failed | cancelled
    error_code: str | None = None
    outputs: list[OutputRef] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)


class JobSaga:
    """reserve → work → store → settle; release on failure or cancel. One per workflow run."""

    def __init__(self, job: JobRef, *, locale: str = "ar") -> None:
        self.job = job
        self.locale = locale
        self.reserved: dict[str, int] = {}  # unit → amount held

    def ledger_key(self, unit: str) -> str:
        return f"{self.job.workflow_id}:{unit}"

    async def step(self, name: str, **detail: Any) -> None:
        """Publish a ``step`` event (the first one also marks the job running)."""
        await _bookkeeping("jobs.step", StepInput(self.job, name, detail))

    async def reserve(self, unit: str, amount: int) -> int:
        """Hold ``amount`` of ``unit`` (idempotent by job); JobFailed("quota_exceeded") if short."""
        if self.job.user_id is None:
            raise ValueError("a job without an owner reserves nothing")
        try:
            result: ReserveResult = await workflow.execute_local_activity(
                "ledger.reserve",
                ReserveInput(
                    user_id=self.job.user_id,
                    unit=unit,
                    amount=amount,
                    key=self.ledger_key(unit),
                    job_id=self.job.job_id,
                    workflow_id=self.job.workflow_id,
                ),
                result_type=ReserveResult,
                start_to_close_timeout=BOOKKEEPING_TIMEOUT,
                retry_policy=RESERVE_RETRY,
            )
        except (ActivityError, ApplicationError) as error:
            raise JobFailed(error_code(error)) from error
        self.reserved[unit] = result.amount
        return result.amount

    async def run(
        self,
        work: Callable[[], Awaitable[JobResult]],
        *,
        on_failure: Callable[[str], Awaitable[None]] | None = None,
    ) -> JobOutcome:
        """Run the saga around ``work``. ``on_failure(code)`` (optional) cleans up after a failure
        or cancel — e.g. deletes a partial object — before the outcome is recorded; it runs
        uncancellable, so give its activities a retry policy without a maximum."""
        try:
            finished = await self._start()
            if finished is not None:
                return finished
            result = await work()
        except JobFailed as failure:
            return await self._end("failed", failure.code, failure.message, failure.result, on_failure)
        except (asyncio.CancelledError, CancelledError):
            return await self._end("cancelled", "cancelled", on_failure=on_failure)
        except ActivityError as error:
            if isinstance(error.cause, CancelledError):
                return await self._end("cancelled", "cancelled", on_failure=on_failure)
            return await self._end("failed", error_code(error), on_failure=on_failure)
        return await uncancellable(self._succeed(result))

    async def _start(self) -> JobOutcome | None:
        """The ``started`` step: the row moves pending → running. A row that already has its
        outcome (the job sweeper failed it while the API's start was delayed; the API failed it
        on a start that seemed to fail) is not run: no reservation, no provider call, no
        charge, no event; the outcome recorded stays. Histories from before this rule carry no
        step result (None) and replay as they ran."""
        row: StepResult | None = await _bookkeeping(
            "jobs.step",
            StepInput(self.job, "started"),
            StepResult | None,  # None in histories from before this rule
        )
        if row is None or row.status not in FINISHED:
            return None
        workflow.logger.warning("job row already %s: not run", row.status)
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(row.status)])
        return JobOutcome(row.status, error_code=row.error_code)

    async def _succeed(self, result: JobResult) -> JobOutcome:
        usage = dict(result.usage)  # units without a reservation are reported as they are
        for unit in self.reserved:
            settled: SettleOutput = await _bookkeeping(
                "ledger.settle", SettleInput(self.ledger_key(unit), result.usage.get(unit, 0)), SettleOutput
            )
            usage[unit] = settled.charged
        await _bookkeeping(
            "jobs.finish",
            FinishInput(
                self.job, "succeeded", self.locale, outputs=result.outputs, usage=usage, result=result.result
            ),
        )
        workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set("succeeded")])
        return JobOutcome("succeeded", outputs=result.outputs, usage=usage)

    async def _end(
        self,
        status: str,
        code: str,
        message: str | None = None,
        result: dict[str, Any] | None = None,
        on_failure: Callable[[str], Awaitable[None]] | None = None,
    ) -> JobOutcome:
        async def end() -> JobOutcome:
            if on_failure is not None:
                await on_failure(code)
            for unit in list(self.reserved):
                await _bookkeeping("ledger.release", ReleaseInput(self.ledger_key(unit), reason=code))
            await _bookkeeping(
                "jobs.finish",
                FinishInput(
                    self.job,
                    status,
                    self.locale,
                    error_code=code,
                    error_message=message,
                    result=result or {},
                ),
            )
            workflow.upsert_search_attributes([PULSE_JOB_STATUS.value_set(status)])
            return JobOutcome(status, error_code=code)

        return await uncancellable(end())


async def _bookkeeping(activity: str, arg: Any, result_type: Any = None) -> Any:
    return await uncancellable(
        workflow.execute_local_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=BOOKKEEPING_TIMEOUT,
            retry_policy=BOOKKEEPING_RETRY,
        )
    )


async def uncancellable(awaitable: Awaitable[T]) -> T:
    """Bookkeeping finishes even when a cancel arrives meanwhile."""
    task = asyncio.ensure_future(awaitable)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()


def error_code(error: BaseException) -> str:
    """The job error code an activity failure carries (its ApplicationError type), if known."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause if isinstance(cause, FailureError) else None
    if isinstance(cause, ApplicationError) and cause.type in KNOWN_ERROR_CODES:
        return cause.type
    return "provider_error"


# --- provider jobs that run long: submit once, then await a webhook signal or poll ---


@dataclass
class ProviderUpdate:
    """A provider job's state: from a verified webhook (signal) or a poll activity."""

    provider_job_id: str
    status: str  # queued | running | succeeded | failed | canceled
    output: Any = None  # e.g. the provider's output URLs (copy them into storage at once)
    error: str | None = None  # the provider's error code (e.g. content_refused)

    @property
    def terminal(self) -> bool:
        return self.status in ("succeeded", "failed", "canceled")


@dataclass
class ProviderJob:
    """Workflow state for one long provider job. Keep it on the workflow instance; the provider
    job id survives replays and worker crashes, so a retry resumes awaiting the same job and
    never submits a second one. Give the provider an idempotency key of the job id too (a crash
    between the provider accepting and the submit activity returning is retried)."""

    provider_job_id: str | None = None
    updates: dict[str, ProviderUpdate] = field(default_factory=dict)  # terminal, by provider id

    def deliver(self, update: ProviderUpdate) -> None:
        """Call from the workflow's ``@workflow.signal(name=PROVIDER_UPDATE)`` handler."""
        if update.terminal:
            self.updates.setdefault(update.provider_job_id, update)

    @property
    def finished(self) -> ProviderUpdate | None:
        return self.updates.get(self.provider_job_id) if self.provider_job_id else None

    async def submit_and_await(
        self,
        submit: Callable[..., Awaitable[str]],
        submit_arg: Any,
        poll: Callable[..., Awaitable[ProviderUpdate]],
        *,
        cancel: Callable[..., Awaitable[Any]] | None = None,
        first_poll: timedelta = timedelta(seconds=5),
        max_poll: timedelta = timedelta(seconds=60),
        deadline: timedelta = timedelta(minutes=20),
        task_queue: str | None = None,
    ) -> ProviderUpdate:
        """Submit (once), then wait for a webhook signal or poll with backoff, whichever first.
        ``submit(submit_arg) -> provider job id``; ``poll(provider_job_id) -> ProviderUpdate``;
        ``cancel(provider_job_id)`` runs when the job is cancelled. Past ``deadline``:
        JobFailed("provider_timeout"). A failed provider job: JobFailed(its error or provider_error)."""
        options: dict[str, Any] = {
            "start_to_close_timeout": timedelta(minutes=2),
            "retry_policy": RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=0),
            "task_queue": task_queue,
        }
        if self.provider_job_id is None:
            self.provider_job_id = await self._submit(submit, submit_arg, cancel, options)
        give_up = workflow.now() + deadline
        delay = first_poll
        try:
            while self.finished is None:
                remaining = give_up - workflow.now()
                if remaining <= timedelta(0):
                    raise JobFailed("provider_timeout")
                try:
                    await workflow.wait_condition(
                        lambda: self.finished is not None, timeout=min(delay, remaining)
                    )
                except TimeoutError:
                    polled: ProviderUpdate = await workflow.execute_activity(
                        poll, self.provider_job_id, **{**options, "start_to_close_timeout": POLL_TIMEOUT}
                    )
                    self.deliver(polled)
                    delay = min(delay * 2, max_poll)
        except (asyncio.CancelledError, CancelledError):
            if cancel is not None:
                await uncancellable(workflow.execute_activity(cancel, self.provider_job_id, **options))
            raise
        update = self.finished
        assert update is not None
        if update.status != "succeeded":
            raise JobFailed(
                update.error or ("cancelled" if update.status == "canceled" else "provider_error")
            )
        return update

    async def _submit(
        self,
        submit: Callable[..., Awaitable[str]],
        submit_arg: Any,
        cancel: Callable[..., Awaitable[Any]] | None,
        options: dict[str, Any],
    ) -> str:
        """The provider's job id. A cancel while the create is in flight does not abandon it:
        the provider may be starting the job right now and we would hold no id to stop it. The
        server is asked to cancel (no further attempt starts), the attempt in flight finishes,
        and the job it created is cancelled at the provider before the cancel goes on (the saga
        then releases the hold). Histories from before this rule replay the old way."""
        if not workflow.patched(SUBMIT_OUTLIVES_CANCEL):
            return str(await workflow.execute_activity(submit, submit_arg, **options))
        submitting = workflow.start_activity(
            submit,
            submit_arg,
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            **options,
        )
        try:
            return str(await asyncio.shield(submitting))
        except (asyncio.CancelledError, CancelledError):
            submitting.cancel()  # no further attempt; the one in flight runs to its end
            try:
                self.provider_job_id = str(await uncancellable(submitting))
            except (asyncio.CancelledError, ActivityError):
                raise asyncio.CancelledError() from None  # nothing was created
            if cancel is not None:
                await uncancellable(workflow.execute_activity(cancel, self.provider_job_id, **options))
            raise


async def signal_provider_update(client: Any, workflow_id: str, update: ProviderUpdate) -> None:
    """What a verified webhook handler calls (the API side; ``client`` is a Temporal Client)."""
    await client.get_workflow_handle(workflow_id).signal(PROVIDER_UPDATE, update)
