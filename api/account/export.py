"""Downloading one's data: ``POST /v1/account/export`` starts DataExportWorkflow (a job on the
one job pipeline: its progress on ``GET /v1/jobs/{id}/events``, its archive on ``GET
/v1/jobs/{id}``); asking while one is being built returns that one. The archive's email links to
``/account/export/{id}`` (web/routes.py), which hands the owner a short-lived signed link."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, SessionDep, SettingsDep, TemporalDep
from api.ratelimit import LimiterDep
from core import data_export, jobs
from core.i18n import translate
from core.models import JobKind, JobStatus
from core.models.base import new_id
from workflows import DOCUMENTS, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_USER_ID
from workflows.data_export import DataExportInput, DataExportWorkflow

router = APIRouter(prefix="/v1/account", tags=["account"])


class ExportOut(BaseModel):
    job_id: str
    status: str
    events_url: str
    status_url: str  # GET /v1/jobs/{id}: the archive's short-lived link once it is ready
    download_url: str  # the page link the email carries (a fresh signed link for the owner)
    message: str


def export_out(job_id: str, job_status: str, locale: str) -> ExportOut:
    return ExportOut(
        job_id=job_id,
        status=job_status,
        events_url=f"/v1/jobs/{job_id}/events",
        status_url=f"/v1/jobs/{job_id}",
        download_url=f"/account/export/{job_id}",
        message=translate(
            "We are preparing your data. We will email you a download link when it is ready.", locale
        ),
    )


@router.post("/export", status_code=status.HTTP_202_ACCEPTED, response_model=ExportOut)
async def request_export(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    limiter: LimiterDep,
    locale: LocaleDep,
) -> ExportOut:
    await data_export.lock_user(session, user.id)  # two requests at once start one export
    running = await data_export.running_export(session, user.id)
    if running is not None:
        return export_out(running.id, running.status, locale)
    await limiter.hit(settings.rate_limit_data_export, "data-export", user.id)
    job_id = new_id()
    workflow_id = data_export.export_workflow_id(job_id)
    job = await jobs.ensure_job(
        session, job_id=job_id, user_id=user.id, kind=JobKind.export.value, workflow_id=workflow_id
    )
    user_id, email, user_locale = user.id, user.email, user.locale or locale
    await session.commit()
    data = DataExportInput(
        job_id=job_id,
        user_id=user_id,
        locale=user_locale,
        notify_to=email,
        link=f"{settings.public_url.rstrip('/')}/account/export/{job_id}",
    )
    try:
        await temporal.start_workflow(
            DataExportWorkflow.run,
            data,
            id=workflow_id,
            task_queue=settings.task_queue(DOCUMENTS),
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(PULSE_USER_ID, user_id),
                    SearchAttributePair(PULSE_JOB_KIND, JobKind.export.value),
                    SearchAttributePair(PULSE_JOB_STATUS, "pending"),
                ]
            ),
            static_summary="data export",
        )
    except Exception:
        await jobs.fail_unstarted(session, job.id)  # a row the sweeper failed keeps its outcome
        await session.commit()
        raise
    return export_out(job_id, JobStatus.pending.value, locale)
