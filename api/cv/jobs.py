"""CV jobs: ``POST /v1/cv/{id}/render`` and ``POST /v1/cv/{id}/assist`` start a workflow on the
``documents`` queue and answer 202 ``{job_id, events_url}``; status, outputs, events and cancel
come from the shared job API (``/v1/jobs/{job_id}``…)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.auth.deps import CurrentUser
from api.deps import LocaleDep, SessionDep, SettingsDep, TemporalDep
from core import jobs
from core.catalog import DEFAULT_MODEL, resolve_model
from core.cv import service
from core.cv.assist import AssistAction, AssistRequest, build_prompt
from core.cv.errors import CvInvalid
from core.cv.schema import Template
from core.models.base import new_id
from core.settings import Settings
from workflows import DOCUMENTS, PULSE_JOB_KIND, PULSE_JOB_STATUS, PULSE_MODEL, PULSE_PROVIDER, PULSE_USER_ID
from workflows.cv import (
    CvAssistInput,
    CvAssistWorkflow,
    CvRenderInput,
    CvRenderWorkflow,
    cv_assist_id,
    cv_render_id,
)

router = APIRouter(prefix="/v1/cv", tags=["cv"])


class RenderIn(BaseModel):
    template: Template | None = None
    locale: Literal["ar", "en"] | None = None  # the other language → an AI translation first
    bilingual: bool | None = None
    paper: Literal["A4", "Letter"] | None = None
    digits: Literal["latin", "arabic"] | None = None
    tagged: bool | None = None  # PDF/UA-1 (default: the CV's layout)


class AssistIn(BaseModel):
    action: AssistAction
    target_locale: Literal["ar", "en"] | None = None  # default: the CV's (translate: the other)
    notes: str = Field(default="", max_length=4000)
    work_index: int | None = Field(default=None, ge=0, le=29)
    job_description: str = Field(default="", max_length=12000)


class JobStarted(BaseModel):
    job_id: str
    events_url: str


def _studio(provider_tokens: int, weight: float) -> int:
    return max(1, -(-int(provider_tokens * weight * 1000) // 1000))


@router.post("/{cv_id}/render", status_code=202, response_model=JobStarted)
async def render_cv(
    cv_id: str,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    locale: LocaleDep,
    body: RenderIn | None = None,
) -> JobStarted:
    body = body or RenderIn()
    record = await service.get_cv(session, user.id, cv_id)
    cv = record.content
    target = body.locale or cv.locale
    translate = target != cv.locale
    model = resolve_model(DEFAULT_MODEL, settings)
    reserve = 0
    if translate:
        prompt = build_prompt(cv, AssistRequest(AssistAction.translate_cv, target))
        reserve = _studio(prompt.input_estimate() + prompt.max_output_tokens, model.token_weight)
    template = body.template or cv.layout.template
    photo = await service.photo_key(session, user.id, cv) if template is Template.photo else None
    job_id = new_id()
    data = CvRenderInput(
        job_id=job_id,
        user_id=user.id,
        cv_id=cv_id,
        version=record.version,
        ui_locale=locale,
        locale=target,
        template=template.value,
        paper=body.paper or cv.layout.paper,
        digits=body.digits or cv.layout.digits,
        bilingual=cv.layout.bilingual_headings if body.bilingual is None else body.bilingual,
        translate=translate,
        model=model.id,
        reserve_tokens=reserve,
        photo_key=photo,
        tagged=cv.layout.tagged if body.tagged is None else body.tagged,
    )
    await _start(
        session,
        client,
        settings,
        user.id,
        "cv",
        cv_render_id(job_id),
        job_id,
        CvRenderWorkflow.run,
        data,
        model.provider if translate else "",
        model.id if translate else "",
    )
    return JobStarted(job_id=job_id, events_url=f"/v1/jobs/{job_id}/events")


@router.post("/{cv_id}/assist", status_code=202, response_model=JobStarted)
async def assist_cv(
    cv_id: str,
    body: AssistIn,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> JobStarted:
    """An AI suggestion (summary, bullets, translation, tailoring) as the job's ``suggestion.json``
    output; nothing in the CV changes until the person saves what they accept."""
    record = await service.get_cv(session, user.id, cv_id)
    cv = record.content
    other = "en" if cv.locale == "ar" else "ar"
    target = body.target_locale or (other if body.action is AssistAction.translate_cv else cv.locale)
    if body.action is AssistAction.draft_bullets and not (0 <= (body.work_index or 0) < len(cv.work)):
        raise CvInvalid()
    if body.action is AssistAction.tailor and not body.job_description.strip():
        raise CvInvalid()
    if body.action is AssistAction.draft_summary and not (body.notes.strip() or cv.work):
        raise CvInvalid()
    request = AssistRequest(body.action, target, body.notes, body.work_index, body.job_description)
    prompt = build_prompt(cv, request)
    model = resolve_model(DEFAULT_MODEL, settings)
    job_id = new_id()
    data = CvAssistInput(
        job_id=job_id,
        user_id=user.id,
        cv_id=cv_id,
        version=record.version,
        ui_locale=locale,
        action=body.action.value,
        target_locale=target,
        model=model.id,
        reserve_tokens=_studio(prompt.input_estimate() + prompt.max_output_tokens, model.token_weight),
        notes=body.notes,
        work_index=body.work_index,
        job_description=body.job_description,
    )
    await _start(
        session,
        client,
        settings,
        user.id,
        "cv_assist",
        cv_assist_id(job_id),
        job_id,
        CvAssistWorkflow.run,
        data,
        model.provider,
        model.id,
    )
    return JobStarted(job_id=job_id, events_url=f"/v1/jobs/{job_id}/events")


async def _start(
    session: AsyncSession,
    client: Client,
    settings: Settings,
    user_id: str,
    kind: str,
    workflow_id: str,
    job_id: str,
    run: Any,
    data: object,
    provider: str,
    model: str,
) -> None:
    """The job row first (committed), then the workflow; a failed start fails the row."""
    job = await jobs.ensure_job(session, job_id=job_id, user_id=user_id, kind=kind, workflow_id=workflow_id)
    await session.commit()
    attributes = [
        SearchAttributePair(PULSE_USER_ID, user_id),
        SearchAttributePair(PULSE_JOB_KIND, kind),
        SearchAttributePair(PULSE_JOB_STATUS, "pending"),
    ]
    if provider:
        attributes += [SearchAttributePair(PULSE_PROVIDER, provider), SearchAttributePair(PULSE_MODEL, model)]
    try:
        await client.start_workflow(
            run,
            data,
            id=workflow_id,
            task_queue=settings.task_queue(DOCUMENTS),
            search_attributes=TypedSearchAttributes(attributes),
            static_summary=f"{kind} job",
        )
    except Exception:
        await jobs.fail_unstarted(session, job.id)  # a row the sweeper failed keeps its outcome
        await session.commit()
        raise
