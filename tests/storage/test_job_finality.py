"""One outcome per job, and every stream ends with it (docs/operations.md, "Rows without a
workflow"): a row the job sweeper failed is never run by a start that comes late (nothing
reserved, no provider call, no charge), the API's failed start leaves such a row alone, a
workflow that starts while the sweeper repairs keeps its row, and a job whose final event was
lost ends a resumed stream with its stored outcome. Real Temporal, PostgreSQL, Redis, emulator."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.cv.jobs import _start as start_job
from api.images.routes import domain_input, launch_image_job
from core import chat, jobs
from core import images as domain
from core.catalog import MODELS
from core.db import Database
from core.image_catalog import resolve_image_model
from core.models import Job, JobStatus, LedgerReservation
from core.models.base import new_id
from core.settings import Settings
from tests.chat.helpers import read_events
from tests.chat.test_turns import leave_only
from tests.conftest import EmulatorControl
from tests.images.helpers import images_left, set_images
from tests.storage.test_job_sweeper import backdate, bus_events, releases, sweeper, tokens_left
from workflows import INTERACTIVE
from workflows.chat_turn import ChatTurnInput, ChatTurnWorkflow
from workflows.images import ImageJobInput, image_workflow_id


def image_input(settings: Settings, user_id: str) -> ImageJobInput:
    """What ``POST /v1/images`` hands to its workflow: one image from the OpenAI emulator."""
    model = resolve_image_model("gpt-image-1", settings)
    spec = domain.check_request(model, "قطة في البتراء", None, 1, inputs=0, mask=False)
    return domain_input(spec, new_id(), user_id, "en", [], None, None)


async def row(db: Database, job_id: str) -> Job:
    async with db.reader() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def reservations(db: Database, job_id: str) -> int:
    async with db.reader() as session:
        query = select(func.count()).select_from(LedgerReservation).where(LedgerReservation.job_id == job_id)
        return int(await session.scalar(query) or 0)


async def provider_requests(emulator: EmulatorControl) -> int:
    return sum(counts.get("requests", 0) for counts in (await emulator.settled()).values())


class StalledTemporal:
    """Temporal as an API process saw it: unreachable, the start hangs until ``release``, then
    fails. Stands in for the Temporal client at the one call the API makes."""

    def __init__(self) -> None:
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    async def start_workflow(self, *args: Any, **kwargs: Any) -> None:
        self.reached.set()
        await self.release.wait()
        raise RPCError("temporal unreachable", RPCStatusCode.UNAVAILABLE, b"")


async def test_a_row_the_sweeper_failed_is_not_run_by_a_late_start(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any, emulator: EmulatorControl
) -> None:
    """The API committed an image job's row and stalled past the sweeper's grace before its
    start: the sweeper failed it. The start then goes through: the saga ends at once — no hold,
    no provider call, the balance unchanged, the row still failed, no event after the sweeper's
    ``error``."""
    me = await sign_in(locale="en")
    await set_images(db, me.user_id, 5)
    data = image_input(settings, me.user_id)
    async with db.session() as session:  # what the route commits before it starts the workflow
        await jobs.ensure_job(
            session,
            job_id=data.job_id,
            user_id=me.user_id,
            kind="image",
            workflow_id=image_workflow_id(data.job_id),
        )
    await backdate(db, data.job_id)  # the API stalled for longer than the grace
    await sweeper(settings, db, worker, client).sweep_once()
    assert (await row(db, data.job_id)).error_code == "service_unavailable"
    async with db.session() as session:
        handle = await launch_image_job(session, client, settings, data)
    outcome = await asyncio.wait_for(handle.result(), 20)
    assert (outcome.status, outcome.error_code) == ("failed", "service_unavailable")
    assert await provider_requests(emulator) == 0
    assert await images_left(db, me.user_id) == 5 and await reservations(db, data.job_id) == 0
    after = await row(db, data.job_id)
    assert (after.status, after.error_code, after.cost_images) == ("failed", "service_unavailable", 0)
    assert await bus_events(worker, data.job_id) == ["error"]


async def test_a_failed_start_after_the_sweeper_failed_the_row_changes_nothing(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """The CV/slides starter commits the row, its start hangs past the grace (the sweeper fails
    the row meanwhile) and then fails: the row keeps the sweeper's outcome and message."""
    me = await sign_in(locale="en")
    job_id, temporal = new_id(), StalledTemporal()
    async with db.session() as session:
        args = ("cv", f"cv-{job_id}", job_id, "CvRenderWorkflow", None, "", "")
        starting = asyncio.create_task(
            start_job(session, cast(Client, temporal), settings, me.user_id, *args)
        )
        await asyncio.wait_for(temporal.reached.wait(), 10)  # committed; the start hangs
        await backdate(db, job_id)
        await sweeper(settings, db, worker, client).sweep_once()
        swept = await row(db, job_id)
        temporal.release.set()
        with pytest.raises(RPCError):
            await starting
    kept = await row(db, job_id)
    assert (kept.status, kept.error_code) == ("failed", "service_unavailable")
    assert kept.error_message == swept.error_message and kept.updated_at == swept.updated_at


async def test_a_workflow_that_starts_while_the_sweeper_repairs_keeps_its_row(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """The sweeper found no workflow and claimed the row; the API's late start lands before the
    repair: the workflow moved the row to running, so the repair leaves it, and the job is
    charged once and succeeds (never charged while shown failed)."""
    me = await sign_in(locale="en")
    await set_images(db, me.user_id, 5)
    data = image_input(settings, me.user_id)
    async with db.session() as session:
        await jobs.ensure_job(
            session,
            job_id=data.job_id,
            user_id=me.user_id,
            kind="image",
            workflow_id=image_workflow_id(data.job_id),
        )
    await backdate(db, data.job_id)
    swept = sweeper(settings, db, worker, client)
    repair, started = swept.default, []

    async def start_then_repair(job: Job) -> None:
        async with db.session() as session:
            started.append(await launch_image_job(session, client, settings, data))
        for _ in range(200):
            if (await row(db, job.id)).status != "pending":
                break
            await asyncio.sleep(0.02)
        await repair(job)

    swept.default = start_then_repair
    await swept.sweep_once()
    outcome = await asyncio.wait_for(started[0].result(), 30)
    assert outcome.status == "succeeded"
    finished = await row(db, data.job_id)
    assert (finished.status, finished.cost_images) == ("succeeded", 1)
    assert await images_left(db, me.user_id) == 4 and await releases(db, data.job_id) == 0


@pytest.mark.parametrize("drained", [False, True], ids=["quota-left", "quota-gone"])
async def test_a_chat_turn_the_sweeper_failed_is_not_answered_by_a_late_start(
    sign_in: Any,
    db: Database,
    settings: Settings,
    client: Client,
    worker: Any,
    emulator: EmulatorControl,
    drained: bool,
) -> None:
    """The API committed a turn and stalled past the grace before starting its workflow: the
    sweeper failed it. The start then goes through: the model is not asked, nothing is charged
    (the workflow's hold is released), and the turn stays failed — before, it was answered and
    billed, its row flipped to succeeded with the sweeper's error code, and its stream carried
    ``error`` then ``done``. With no quota left the late start's hold is refused, and the row
    keeps the sweeper's code all the same (it used to become ``quota_exceeded``)."""
    me = await sign_in(locale="en")
    model = MODELS["gpt-5-mini"]
    before = await tokens_left(db, me.user_id)
    async with db.session() as session:  # what the route commits before it starts the workflow
        turn = await chat.start_turn(
            session,
            user_id=me.user_id,
            conversation_id=None,
            model=model.id,
            message="ما عاصمة الأردن؟",
            context_window=model.context_window,
            max_output_tokens=300,
        )
    await backdate(db, turn.turn_id)
    await sweeper(settings, db, worker, client).sweep_once()
    assert (await row(db, turn.turn_id)).error_code == "service_unavailable"
    if drained:
        await leave_only(db, me.user_id, tokens=0)
        before = 0
    data = ChatTurnInput(
        turn_id=turn.turn_id,
        user_id=me.user_id,
        model=model.id,
        provider=model.provider,
        max_output_tokens=300,
        input_tokens_estimate=turn.input_tokens_estimate,
        token_weight=model.token_weight,
        min_output_tokens=16,
        moderate=False,
        locale="en",
    )
    handle = await client.start_workflow(
        ChatTurnWorkflow.run, data, id=turn.workflow_id, task_queue=settings.task_queue(INTERACTIVE)
    )
    outcome = await asyncio.wait_for(handle.result(), 30)
    assert (outcome.status, outcome.studio_tokens) == ("failed", 0)
    assert drained or outcome.error_code == "service_unavailable"
    assert await provider_requests(emulator) == 0
    assert await tokens_left(db, me.user_id) == before
    after = await row(db, turn.turn_id)
    assert (after.status, after.error_code, after.cost_tokens) == ("failed", "service_unavailable", 0)
    events = await bus_events(worker, turn.turn_id)
    assert set(events) == {"error"}, events  # no delta, no done


async def test_a_lost_final_event_ends_a_resumed_stream_with_the_stored_outcome(
    sign_in: Any, db: Database, worker: Any
) -> None:
    """Two jobs whose rows were committed finished and whose final events were never published
    (a crash between the two): a client resuming after the ``step`` it got ends with ``done`` /
    ``error`` from the rows within the relay's grace, not keepalives forever."""
    me = await sign_in(locale="en")
    resume_from = {}
    for job_id in (ok := new_id(), bad := new_id()):
        async with db.session() as session:
            await jobs.ensure_job(
                session, job_id=job_id, user_id=me.user_id, kind="image", workflow_id=f"image-{job_id}"
            )
        resume_from[job_id] = await worker.bus.publish(job_id, "step", {"step": "started", "attempt": 1})
    async with db.session() as session:  # committed; the process died before the publish
        done = await session.get(Job, ok)
        assert done is not None
        await jobs.finish_job(session, done, JobStatus.succeeded, usage={"images": 1})
        await jobs.fail_unfinished(session, bad, "provider_error", jobs.english_error("provider_error"))
    loop = asyncio.get_running_loop()
    began = loop.time()
    succeeded, failed = await asyncio.wait_for(
        asyncio.gather(
            *(
                read_events(me.client, f"/v1/jobs/{job_id}/events", last_event_id=resume_from[job_id])
                for job_id in (ok, bad)
            )
        ),
        10,
    )
    assert loop.time() - began < 5
    assert succeeded.last.type == "done" and succeeded.last.data["usage"]["images"] == 1
    assert failed.last.type == "error" and failed.last.data["code"] == "provider_error"
    assert "could not finish" in failed.last.data["message"]
