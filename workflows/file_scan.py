"""FileScanWorkflow (id ``file-<id>``, queue ``background``): the job pipeline's first user.

check (exists, size, real type) → scan (clamd INSTREAM) → promote to ``assets`` (the job's one
output) — or delete the object and record why (the job fails with the reason's code). The scan
retries while clamd is down (bounded interval) and gives up after an hour as
``scanner_unavailable``; a worker killed mid-scan is noticed by the heartbeat timeout and the
scan runs again on another worker, with one outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.storage import (
        CheckResult,
        FileActivities,
        FileStepInput,
        RejectInput,
        ScanPromoteInput,
        ScanResult,
    )
    from workflows.pipeline import JobFailed, JobOutcome, JobRef, JobResult, JobSaga

STORAGE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=10), maximum_attempts=0)
SCAN_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=0)
SCAN_GIVE_UP = timedelta(hours=1)


@dataclass
class FileScanInput:
    file_id: str
    user_id: str
    locale: str = "ar"


@workflow.defn(name="FileScanWorkflow")
class FileScanWorkflow:
    @workflow.run
    async def run(self, data: FileScanInput) -> JobOutcome:
        job = JobRef(data.file_id, data.user_id, "file_scan", workflow.info().workflow_id)
        saga = JobSaga(job, locale=data.locale)
        step = FileStepInput(data.file_id)
        rejected: list[str] = []  # the reason once recorded (cleanup then has nothing to do)

        async def reject(code: str, detail: str | None = None) -> str:
            rejected.append(code)
            message: str = await workflow.execute_activity_method(
                FileActivities.reject,
                RejectInput(data.file_id, code, detail),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=STORAGE_RETRY,
            )
            return message

        async def work() -> JobResult:
            await saga.step("check")
            checked: CheckResult = await workflow.execute_activity_method(
                FileActivities.check,
                step,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=STORAGE_RETRY,
            )
            if checked.refusal:
                raise JobFailed(checked.refusal, await reject(checked.refusal, checked.detected_type))
            await saga.step("scan")
            try:
                scanned: ScanResult = await workflow.execute_activity_method(
                    FileActivities.scan,
                    step,
                    start_to_close_timeout=timedelta(minutes=5),
                    schedule_to_close_timeout=SCAN_GIVE_UP,
                    heartbeat_timeout=timedelta(seconds=5),
                    retry_policy=SCAN_RETRY,
                )
            except ActivityError as error:
                if isinstance(error.cause, TimeoutError):
                    raise JobFailed("scanner_unavailable", await reject("scanner_unavailable")) from error
                raise
            if scanned.refusal:
                raise JobFailed(scanned.refusal, await reject(scanned.refusal, scanned.signature))
            await saga.step("store")
            output = await workflow.execute_activity_method(
                FileActivities.promote,
                ScanPromoteInput(data.file_id, scanned.sha256),
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=STORAGE_RETRY,
            )
            result = {
                "detected_type": checked.detected_type,
                "scanned_bytes": scanned.scanned_bytes,
                "scan_seconds": round(scanned.seconds, 3),
            }
            return JobResult(outputs=[output], result=result)

        async def cleanup(code: str) -> None:
            if not rejected:  # a cancel, or an error before a reason was recorded
                await reject(code if code in ("cancelled", "scanner_unavailable") else "scan_failed")

        return await saga.run(work, on_failure=cleanup)
