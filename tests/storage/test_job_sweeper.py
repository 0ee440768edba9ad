"""The job sweeper repairs rows of every kind left without a live workflow (docs/operations.md,
"Rows without a workflow"): failed ``service_unavailable`` with the hold released once and the
stream ended, a file scan started again; a live workflow's row never touched; two sweepers
repair a row once; long-lived live jobs don't hide newer orphans. Real Temporal + PostgreSQL."""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from temporalio.client import Client

from activities.job_sweeper import JobSweeper, Repair, job_sweeper
from core import chat, files, jobs, ledger, subscriptions
from core.db import Database
from core.models import Job, LedgerEntry, LedgerReservation, StoredFile
from core.models.base import new_id, utcnow
from core.settings import Settings
from tests.chat.helpers import read_events
from tests.conftest import EmulatorControl
from tests.images.helpers import images_left, set_images
from tests.images.helpers import start as start_image
from tests.storage.helpers import create, png_bytes, post_form
from workflows.starters import start_file_scan

pytestmark = pytest.mark.usefixtures("clamd")
NOBODY_POLLS = "no-worker-polls-this"  # a workflow started here stays RUNNING (a job waiting)


def sweeper(settings: Settings, db: Database, worker: Any, client: Client, *, limit: int = 200) -> JobSweeper:
    tuned = settings.model_copy(update={"job_orphan_grace_seconds": 60.0, "job_sweep_batch": limit})
    start_scan = functools.partial(start_file_scan, client, settings)
    return job_sweeper(tuned, db, worker.llm, worker.bus, client, start_scan)


def record_repairs(sweeper: JobSweeper, calls: list[str]) -> None:
    """Note each job the sweeper hands to a repair (the repairs themselves are the real ones)."""

    def noted(repair: Repair) -> Repair:
        async def run(job: Job) -> None:
            calls.append(job.id)
            await repair(job)

        return run

    sweeper.repairs = {kind: noted(repair) for kind, repair in sweeper.repairs.items()}
    sweeper.default = noted(sweeper.default)


async def backdate(db: Database, job_id: str, by: timedelta = timedelta(minutes=10)) -> None:
    async with db.session() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow() - by))


async def orphan_row(db: Database, user_id: str, kind: str, prefix: str, hold: tuple[str, int] | None) -> Job:
    """A job row committed (with the hold its saga would have taken) and no workflow, backdated."""
    job_id = new_id()
    workflow_id = f"{prefix}-{job_id}"
    async with db.session() as session:
        await jobs.ensure_job(session, job_id=job_id, user_id=user_id, kind=kind, workflow_id=workflow_id)
        if hold is not None:
            await subscriptions.ensure_subscription(session, user_id)
            unit, amount = hold
            await ledger.reserve(
                session,
                user_id=user_id,
                unit=unit,
                amount=amount,
                key=f"{workflow_id}:{unit}",
                job_id=job_id,
                workflow_id=workflow_id,
            )
    await backdate(db, job_id)
    async with db.reader() as session:
        row = await session.get(Job, job_id)
    assert row is not None
    return row


async def tokens_left(db: Database, user_id: str) -> int:
    async with db.session() as session:
        await subscriptions.ensure_subscription(session, user_id)  # a new person's Free period
        return int((await ledger.usage(session, user_id)).units["tokens"].remaining)


async def releases(db: Database, job_id: str) -> int:
    async with db.reader() as session:
        query = (
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.job_id == job_id, LedgerEntry.kind == "release")
        )
        return int(await session.scalar(query) or 0)


async def open_holds(db: Database, job_id: str) -> int:
    async with db.reader() as session:
        query = (
            select(func.count())
            .select_from(LedgerReservation)
            .where(LedgerReservation.job_id == job_id, LedgerReservation.status == "reserved")
        )
        return int(await session.scalar(query) or 0)


async def bus_events(worker: Any, job_id: str) -> list[str]:
    return [event.type for event in await worker.bus.read(job_id, None, block_ms=0)]


async def test_an_image_job_whose_workflow_was_terminated_is_failed_released_once_and_its_stream_ends(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any, emulator: EmulatorControl
) -> None:
    """An operator terminated the workflow mid-job (the row stays running, the hold held): the
    sweeper fails it ``service_unavailable`` in the owner's language, releases the hold once,
    and the open events stream ends with ``error``. A second sweep changes nothing."""
    me = await sign_in(locale="en")
    await set_images(db, me.user_id, 5)
    await emulator.fault("replicate", "slow", delay_s=30)
    job_id = await start_image(me.client, model="black-forest-labs/flux-schnell", n=2)
    for _ in range(200):
        if await images_left(db, me.user_id) == 3:
            break
        await asyncio.sleep(0.05)
    await client.get_workflow_handle(f"image-{job_id}").terminate("test: the operator stopped it")
    await backdate(db, job_id)
    stream = asyncio.create_task(read_events(me.client, f"/v1/jobs/{job_id}/events"))
    await sweeper(settings, db, worker, client).sweep_once()
    ended = await asyncio.wait_for(stream, 20)
    assert ended.last.type == "error" and ended.last.data["code"] == "service_unavailable"
    assert "briefly unavailable" in ended.last.data["message"]
    body = (await me.client.get(f"/v1/jobs/{job_id}")).json()
    assert (body["status"], body["error"]["code"]) == ("failed", "service_unavailable")
    arabic = (await me.client.get(f"/v1/jobs/{job_id}", params={"lang": "ar"})).json()
    assert "الخدمة" in arabic["error"]["message"]
    assert await images_left(db, me.user_id) == 5 and await releases(db, job_id) == 1
    await backdate(db, job_id)
    await sweeper(settings, db, worker, client).sweep_once()
    assert await images_left(db, me.user_id) == 5 and await releases(db, job_id) == 1
    assert (await bus_events(worker, job_id)).count("error") == 1


async def test_a_cv_row_without_its_workflow_is_failed_and_its_hold_released(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """The API died between committing a CV render's row and starting its workflow (and a hold
    under the job's key is left, as a workflow past its retention would leave it)."""
    me = await sign_in(locale="ar")
    before = await tokens_left(db, me.user_id)
    row = await orphan_row(db, me.user_id, "cv", "cv", ("tokens", 1500))
    assert await tokens_left(db, me.user_id) == before - 1500
    stream = asyncio.create_task(read_events(me.client, f"/v1/jobs/{row.id}/events"))
    await sweeper(settings, db, worker, client).sweep_once()
    ended = await asyncio.wait_for(stream, 20)
    assert ended.last.type == "error" and ended.last.data["code"] == "service_unavailable"
    assert "الخدمة" in ended.last.data["message"]
    assert await tokens_left(db, me.user_id) == before and await releases(db, row.id) == 1


async def orphan_turn(db: Database, user_id: str, hold: int) -> Job:
    """A chat turn committed by the API, its workflow gone after it took its hold, backdated."""
    async with db.session() as session:
        turn = await chat.start_turn(
            session,
            user_id=user_id,
            conversation_id=None,
            model="gpt-5-mini",
            message="مرحبا",
            context_window=128000,
            max_output_tokens=300,
        )
        await subscriptions.ensure_subscription(session, user_id)
        await ledger.reserve(
            session,
            user_id=user_id,
            unit="tokens",
            amount=hold,
            key=turn.workflow_id,
            job_id=turn.turn_id,
            workflow_id=turn.workflow_id,
        )
    await backdate(db, turn.turn_id)
    async with db.reader() as session:
        row = await session.get(Job, turn.turn_id)
    assert row is not None
    return row


async def test_two_sweepers_at_once_repair_a_row_of_every_kind_once(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """Two `pulse worker` processes sweep the same orphans at the same moment — a row of every
    kind that fails (chat, CV, slides, image, video, export, diagnostics), each holding tokens:
    each row is claimed by one of them; one repair, one release, one ``error`` event, every
    row ``failed`` ``service_unavailable``, the balance exact."""
    me = await sign_in()
    before = await tokens_left(db, me.user_id)
    kinds = ("cv", "slides", "image", "video", "export", "diagnostics")
    rows = [await orphan_row(db, me.user_id, kind, kind, ("tokens", 700)) for kind in kinds]
    rows.append(await orphan_turn(db, me.user_id, 500))
    assert await tokens_left(db, me.user_id) == before - 700 * len(kinds) - 500
    calls: list[str] = []
    first, second = sweeper(settings, db, worker, client), sweeper(settings, db, worker, client)
    record_repairs(first, calls)
    record_repairs(second, calls)
    await asyncio.gather(first.sweep_once(), second.sweep_once())
    for row in rows:
        assert calls.count(row.id) == 1, (row.kind, calls)
        assert await releases(db, row.id) == 1 and await open_holds(db, row.id) == 0, row.kind
        assert (await bus_events(worker, row.id)).count("error") == 1, row.kind
        async with db.reader() as session:
            repaired = await session.get(Job, row.id)
        assert repaired is not None, row.kind
        assert (repaired.status, repaired.error_code) == ("failed", "service_unavailable"), row.kind
    assert await tokens_left(db, me.user_id) == before


async def test_a_row_whose_workflow_is_running_is_never_touched(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """A slide deck waiting days for its outline to be approved: its workflow is RUNNING, so
    however old its row, the sweeper leaves the row, its hold and its stream alone."""
    me = await sign_in()
    row = await orphan_row(db, me.user_id, "slides", "slides", ("tokens", 900))
    handle = await client.start_workflow("SlideDeckWorkflow", id=row.workflow_id, task_queue=NOBODY_POLLS)
    try:
        await backdate(db, row.id, timedelta(days=3))
        for _ in range(2):
            await sweeper(settings, db, worker, client).sweep_once()
        async with db.reader() as session:
            kept = await session.get(Job, row.id)
        assert kept is not None and kept.status == "pending" and kept.error_code is None
        assert await open_holds(db, row.id) == 1 and await bus_events(worker, row.id) == []
    finally:
        await handle.terminate("test over")


async def test_long_lived_live_jobs_do_not_hide_newer_orphans(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """Batch of 2, three older live jobs ahead of an orphan: the old sweep checked the same two
    oldest rows every round; now each round goes on where the last stopped."""
    me = await sign_in()
    live = [await orphan_row(db, me.user_id, "slides", "slides", None) for _ in range(3)]
    handles = [
        await client.start_workflow("SlideDeckWorkflow", id=row.workflow_id, task_queue=NOBODY_POLLS)
        for row in live
    ]
    try:
        for index, row in enumerate(live):  # the oldest rows of the whole table
            await backdate(db, row.id, timedelta(days=9000 - index))
        orphan = await orphan_row(db, me.user_id, "video", "video", None)
        await backdate(db, orphan.id, timedelta(days=8000))
        swept = sweeper(settings, db, worker, client, limit=2)
        await swept.sweep_once()
        async with db.reader() as session:
            waiting = await session.get(Job, orphan.id)
        assert waiting is not None and waiting.status == "pending"  # not reached in round one
        await swept.sweep_once()
        async with db.reader() as session:
            repaired = await session.get(Job, orphan.id)
            alive = [await session.get(Job, row.id) for row in live]
        assert repaired is not None and repaired.error_code == "service_unavailable"
        assert all(row is not None and row.status == "pending" for row in alive)
    finally:
        for handle in handles:
            await handle.terminate("test over")


async def test_a_file_scan_whose_workflow_never_started_is_started_again(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """The API committed complete (file scanning, job row) and died before starting the scan:
    the sweeper starts ``file-<id>`` and the scan reaches its verdict."""
    me = await sign_in()
    body = png_bytes(40, 30)
    created = (await create(me.client, f"صورة-{uuid.uuid4().hex[:6]}.png", "image/png", len(body))).json()
    assert (await post_form(created["upload"], body, "image/png")).status_code in (200, 201, 204)
    file_id = created["file_id"]
    async with db.session() as session:  # what complete commits before it starts the workflow
        row = await session.get(StoredFile, file_id)
        assert row is not None and await files.start_scan(session, row)
        await jobs.ensure_job(
            session, job_id=file_id, user_id=me.user_id, kind="file_scan", workflow_id=f"file-{file_id}"
        )
    await backdate(db, file_id)
    await sweeper(settings, db, worker, client).sweep_once()
    ended = await read_events(me.client, f"/v1/jobs/{file_id}/events")
    assert ended.last.type == "done", ended.events
    assert (await me.client.get(f"/v1/files/{file_id}")).json()["status"] == "ready"


async def test_a_deck_build_without_its_workflow_fails_its_deck_too(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """A deck keeps its own status: the sweeper fails the build's job and the deck with it, so
    the deck's page stops waiting; a deck whose current build is another job is left alone."""
    from core.models import SlideDeck

    me = await sign_in(locale="ar")
    row = await orphan_row(db, me.user_id, "slides", "slides", ("tokens", 800))
    other = new_id()
    async with db.session() as session:
        brief = {"topic": "t", "slides": 3}
        session.add(SlideDeck(id=new_id(), user_id=me.user_id, job_id=row.id, language="ar", brief=brief))
        session.add(SlideDeck(id=other, user_id=me.user_id, job_id=new_id(), language="ar", brief=brief))
        await session.execute(
            update(SlideDeck).where(SlideDeck.user_id == me.user_id).values(status="generating")
        )
    await sweeper(settings, db, worker, client).sweep_once()
    async with db.reader() as session:
        decks = {
            deck.job_id == row.id: deck.status
            for deck in (
                await session.scalars(select(SlideDeck).where(SlideDeck.user_id == me.user_id))
            ).all()
        }
        job = await session.get(Job, row.id)
    assert job is not None and (job.status, job.error_code) == ("failed", "service_unavailable")
    assert decks == {True: "failed", False: "generating"}
    assert await open_holds(db, row.id) == 0 and await releases(db, row.id) == 1
