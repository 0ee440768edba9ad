"""Slide-deck API: ``POST /v1/slides`` (a brief) → 202 ``{deck_id, job_id, events_url}``; read a
deck (outline, versions, files); send the person's edited outline (the workflow's Update);
regenerate one slide (metered alone); download the PPTX or the PDF twin. Job status, events and
cancel are the shared job API's (``/v1/jobs/{job_id}``…)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from api.auth.deps import CurrentUser
from api.cv.jobs import _start
from api.deps import LocaleDep, SessionDep, SettingsDep, StorageDep, TemporalDep
from api.jobs.routes import absolute
from core import files, jobs
from core.catalog import DEFAULT_MODEL, resolve_model
from core.image_catalog import resolve_image_model
from core.models import SlideDeck, StoredFile
from core.models.base import new_id
from core.settings import Settings
from core.slides.errors import (
    DeckNotFound,
    DeckNotReady,
    OutlineNotAwaited,
    SlideEditInvalid,
    SlideOutOfRange,
)
from core.slides.layouts import IMAGE_PANEL
from core.slides.model import Brief, Layout, Outline, SlideEdit
from core.slides.pictures import size_for
from core.slides.prompts import reserve_estimate
from core.slides.source import SOURCE_MAX_CHARS, check_source, document_text
from providers.storage import ASSETS, Storage, object_key
from workflows import MEDIA
from workflows.slides import (
    APPROVE_OUTLINE,
    DeckImages,
    RegenerateInput,
    SlideDeckInput,
    SlideDeckWorkflow,
    SlideRegenerateWorkflow,
    deck_workflow_id,
    edit_workflow_id,
    regenerate_workflow_id,
)

router = APIRouter(prefix="/v1/slides", tags=["slides"])
REGENERATE_TOKENS = 2500  # provider tokens one slide may take: content + two rewrites


class DeckStarted(BaseModel):
    deck_id: str
    job_id: str
    events_url: str


class FileOut(BaseModel):
    name: str
    content_type: str
    size: int
    url: str


class DeckOut(BaseModel):
    id: str
    status: str
    language: str
    title: str
    job_id: str
    brief: dict[str, Any]
    outline: dict[str, Any] | None
    version: int
    versions: list[dict[str, Any]]
    slides: list[dict[str, Any]] = []  # the latest version's content (what PUT …/slides/{n} edits)
    files: list[FileOut]
    created_at: datetime
    updated_at: datetime


def _studio(provider_tokens: int, weight: float) -> int:
    return max(1, -(-int(provider_tokens * weight * 1000) // 1000))


async def _owned(session: AsyncSession, user_id: str, deck_id: str) -> SlideDeck:
    deck = await session.get(SlideDeck, deck_id)
    if deck is None or deck.user_id != user_id:
        raise DeckNotFound()
    return deck


async def with_document(
    body: Brief, session: AsyncSession, storage: Storage, settings: Settings, user_id: str
) -> tuple[Brief, StoredFile | None]:
    """The brief with its uploaded document's text as the source (after any typed notes):
    404 another person's file, 409 not scanned yet, 415/413/422 unsupported, too large, no text."""
    if body.source_file_id is None:
        return body.model_copy(update={"source_name": "", "source_truncated": False}), None
    row = await files.ready_file(session, user_id, body.source_file_id)
    check_source(row.content_type, row.size, settings.slides_source_max_bytes)
    text, truncated = await asyncio.to_thread(
        document_text, await storage.get(ASSETS, row.key), row.content_type
    )
    combined = f"{body.source_text}\n\n{text}" if body.source_text else text
    return body.model_copy(
        update={
            "source_text": combined[:SOURCE_MAX_CHARS],
            "source_name": row.name,
            "source_truncated": truncated or len(combined) > SOURCE_MAX_CHARS,
        }
    ), row


def deck_images(settings: Settings) -> DeckImages:
    """The image model a deck's pictures are made with, at the size nearest the panel's shape."""
    model = resolve_image_model(settings.slides_image_model, settings)
    return DeckImages(
        model=model.id,
        provider=model.provider,
        size=size_for(list(model.sizes), IMAGE_PANEL[2], IMAGE_PANEL[3]),
        cost=model.cost,
        task_queue=settings.task_queue(MEDIA),
        long_job=model.async_jobs,
        first_poll_s=settings.image_poll_initial_seconds,
        max_poll_s=settings.image_poll_max_seconds,
    )


@router.post("", status_code=202, response_model=DeckStarted)
async def create_deck(
    body: Brief,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> DeckStarted:
    model = resolve_model(DEFAULT_MODEL, settings)
    job_id, deck_id = new_id(), new_id()
    body, document = await with_document(body, session, storage, settings, user.id)
    brief = body.model_dump(mode="json")
    if document is not None:  # the job took it as input
        kind, workflow_id = "slides", deck_workflow_id(job_id)
        await jobs.ensure_job(session, job_id=job_id, user_id=user.id, kind=kind, workflow_id=workflow_id)
        await files.attach_to_job(session, job_id, [document])
    session.add(
        SlideDeck(
            id=deck_id, user_id=user.id, job_id=job_id, language=body.language, brief=brief, versions=[]
        )
    )
    data = SlideDeckInput(
        job_id=job_id,
        user_id=user.id,
        deck_id=deck_id,
        ui_locale=locale,
        brief=brief,
        model=model.id,
        reserve_tokens=_studio(reserve_estimate(body), model.token_weight),
        outline_timeout_s=settings.slides_outline_timeout_seconds,
        images=deck_images(settings) if body.images else None,
    )
    workflow_id = deck_workflow_id(job_id)
    await _start(
        session,
        client,
        settings,
        user.id,
        "slides",
        workflow_id,
        job_id,
        SlideDeckWorkflow.run,
        data,
        model.provider,
        model.id,
    )
    return DeckStarted(deck_id=deck_id, job_id=job_id, events_url=f"/v1/jobs/{job_id}/events")


@router.get("", response_model=list[DeckOut])
async def list_decks(user: CurrentUser, session: SessionDep) -> list[DeckOut]:
    rows = await session.execute(
        select(SlideDeck).where(SlideDeck.user_id == user.id).order_by(SlideDeck.updated_at.desc()).limit(50)
    )
    return [_deck_out(deck, []) for deck in rows.scalars()]


def _deck_out(deck: SlideDeck, files: list[FileOut], slides: list[dict[str, Any]] | None = None) -> DeckOut:
    return DeckOut(
        id=deck.id,
        status=deck.status,
        language=deck.language,
        title=deck.title,
        job_id=deck.job_id,
        brief=deck.brief,
        outline=deck.outline,
        version=deck.version,
        versions=deck.versions,
        slides=slides or [],
        files=files,
        created_at=deck.created_at,
        updated_at=deck.updated_at,
    )


@router.get("/{deck_id}", response_model=DeckOut)
async def get_deck(
    deck_id: str,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> DeckOut:
    """The deck with the files of its latest version (signed links: PPTX, PDF, one PNG per slide)."""
    deck = await _owned(session, user.id, deck_id)
    files: list[FileOut] = []
    if deck.versions:
        job = await jobs.owned_job(session, user.id, deck.versions[-1]["job_id"])
        for output in jobs.job_outputs(job):
            url = await storage.signed_get_url(
                output.bucket,  # type: ignore[arg-type]
                output.key,
                filename=output.name,
                content_type=output.content_type,
                expires_in=settings.storage_download_ttl_seconds,
            )
            files.append(
                FileOut(
                    name=output.name,
                    content_type=output.content_type,
                    size=output.size,
                    url=absolute(request, url),
                )
            )
    slides: list[dict[str, Any]] = []
    if deck.versions:
        latest = object_key(user.id, "slides", deck.versions[-1]["job_id"], "deck.json")
        slides = json.loads(await storage.get(ASSETS, latest))["slides"]
    return _deck_out(deck, files, slides)


@router.post("/{deck_id}/outline")
async def approve_outline(
    deck_id: str, body: Outline, user: CurrentUser, session: SessionDep, client: TemporalDep
) -> dict[str, Any]:
    """The person's edited outline (reordered, added, deleted, rewritten) → the workflow's Update,
    validated there before it is accepted; content generation starts at once."""
    deck = await _owned(session, user.id, deck_id)
    if deck.status != "awaiting_outline":
        raise OutlineNotAwaited()
    handle = client.get_workflow_handle(deck_workflow_id(deck.job_id))
    try:
        result: dict[str, Any] = await handle.execute_update(APPROVE_OUTLINE, body.model_dump(mode="json"))
    except (WorkflowUpdateFailedError, RPCError) as error:
        raise OutlineNotAwaited() from error
    return {"deck_id": deck.id, "job_id": deck.job_id, **result}


def _latest_slide(deck: SlideDeck, number: int) -> dict[str, Any]:
    if not deck.versions:
        raise DeckNotReady()
    slides: list[dict[str, Any]] = deck.versions[-1]["slides"]
    if not 1 <= number <= len(slides):
        raise SlideOutOfRange()
    return slides[number - 1]


async def _start_slide_job(
    session: AsyncSession,
    client: Any,
    settings: Settings,
    deck: SlideDeck,
    number: int,
    locale: str,
    edit: dict[str, Any] | None = None,
) -> DeckStarted:
    """One slide's job: regenerated (its own reservation) or, with ``edit``, re-exported free."""
    model = resolve_model(DEFAULT_MODEL, settings)
    job_id = new_id()
    data = RegenerateInput(
        job_id=job_id,
        user_id=deck.user_id,
        deck_id=deck.id,
        ui_locale=locale,
        index=number - 1,
        model=model.id,
        reserve_tokens=0 if edit else _studio(REGENERATE_TOKENS, model.token_weight),
        edit=edit,
    )
    workflow_id = edit_workflow_id(job_id) if edit else regenerate_workflow_id(job_id)
    await _start(
        session,
        client,
        settings,
        deck.user_id,
        "slides",
        workflow_id,
        job_id,
        SlideRegenerateWorkflow.run,
        data,
        model.provider,
        model.id,
    )
    return DeckStarted(deck_id=deck.id, job_id=job_id, events_url=f"/v1/jobs/{job_id}/events")


@router.post("/{deck_id}/slides/{number}/regenerate", status_code=202, response_model=DeckStarted)
async def regenerate_slide(
    deck_id: str,
    number: int,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> DeckStarted:
    """One slide (1-based) written again and the deck re-rendered as a new version; its own job,
    billed on its own."""
    deck = await _owned(session, user.id, deck_id)
    _latest_slide(deck, number)
    return await _start_slide_job(session, client, settings, deck, number, locale)


@router.put("/{deck_id}/slides/{number}", status_code=202, response_model=DeckStarted)
async def edit_slide(
    deck_id: str,
    number: int,
    body: SlideEdit,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    locale: LocaleDep,
) -> DeckStarted:
    """The person's own words for one slide (only the fields given change), re-exported as a new
    version — no model is called, nothing is billed; a text too long for its box keeps the
    smallest size and is listed in ``overflow``, never cut or rewritten."""
    deck = await _owned(session, user.id, deck_id)
    slide = _latest_slide(deck, number)
    outside = body.outside(Layout(slide["layout"]))
    if outside:
        raise SlideEditInvalid(fields=", ".join(outside))
    if not body.changes():
        raise SlideEditInvalid(fields="-")
    return await _start_slide_job(session, client, settings, deck, number, locale, body.changes())


@router.get("/{deck_id}/download/{fmt}")
async def download(
    deck_id: str,
    fmt: Literal["pptx", "pdf"],
    user: CurrentUser,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    request: Request,
) -> RedirectResponse:
    """A redirect to a short-lived signed link of the latest version's file."""
    deck = await _owned(session, user.id, deck_id)
    if not deck.versions:
        raise DeckNotReady()
    job = await jobs.owned_job(session, user.id, deck.versions[-1]["job_id"])
    output = next((o for o in jobs.job_outputs(job) if o.name == f"deck.{fmt}"), None)
    if output is None:
        raise DeckNotReady()
    name = f"{(deck.title or 'deck')[:80]}.{fmt}"
    url = await storage.signed_get_url(
        output.bucket,  # type: ignore[arg-type]
        output.key,
        filename=name,
        content_type=output.content_type,
        expires_in=settings.storage_download_ttl_seconds,
    )
    return RedirectResponse(absolute(request, url), status_code=307)
