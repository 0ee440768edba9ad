"""The real ceiling on Temporal's time-skipping test server: a Runway render that never ends is
polled at the catalog's pace (5 s doubling to 15 s) for the model's 15 minutes, then cancelled
at Runway and the hold released — in seconds of wall time. (The API test uses a 1.5 s ceiling.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import worker as worker_module
from api.videos.routes import job_input
from core import jobs
from core import videos as domain
from core.accounts import get_or_create_user
from core.models import Job
from core.models.base import new_id
from core.settings import Settings
from core.video_catalog import VIDEO_MODELS
from tests.conftest import EmulatorControl
from tests.video.helpers import set_videos, videos_left
from workflows import SEARCH_ATTRIBUTES
from workflows.client import binary, data_converter
from workflows.video import VideoJobWorkflow, video_workflow_id


@pytest_asyncio.fixture
async def skipping(settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"), data_converter=data_converter(settings)
    )
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest

    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace, search_attributes={key.name: keyword for key in SEARCH_ATTRIBUTES}
        )
    )
    yield env
    await env.shutdown()


async def test_a_render_outliving_the_model_ceiling_is_cancelled_and_released(
    skipping: WorkflowEnvironment,
    settings: Settings,
    worker: worker_module.WorkerDeps,
    emulator: EmulatorControl,
) -> None:
    await emulator.fault("runway", "never_finish")
    model = VIDEO_MODELS["runway/veo3.1_fast"]
    catalog = settings.model_copy(update={"video_poll_initial_seconds": None, "video_poll_max_seconds": None})
    async with worker.db.session() as session:
        user = await get_or_create_user(session, f"ceiling-{uuid.uuid4().hex[:8]}@example.com", "en")
    await set_videos(worker.db, user.id, 1)
    job_id = new_id()
    spec = domain.check_request(model, "a camel", 4, "16:9", from_image=False)
    async with worker.db.session() as session:
        await jobs.ensure_job(
            session, job_id=job_id, user_id=user.id, kind="video", workflow_id=video_workflow_id(job_id)
        )
        await domain.create_video(session, job_id, user.id, spec)
    data = job_input(spec, catalog, job_id, user.id, "en")
    assert (data.first_poll_s, data.max_poll_s, data.ceiling_s) == (5, 15, 15 * 60)
    queue = f"skip-{uuid.uuid4().hex[:8]}"
    started = await skipping.get_current_time()
    async with Worker(
        skipping.client,
        task_queue=queue,
        workflows=[VideoJobWorkflow],
        activities=worker_module.activity_functions(worker),
    ):
        outcome = await skipping.client.execute_workflow(
            VideoJobWorkflow.run, data, id=video_workflow_id(job_id), task_queue=queue
        )
    assert (outcome.status, outcome.error_code) == ("failed", "provider_timeout")
    assert await skipping.get_current_time() - started >= timedelta(minutes=15)
    calls = (await emulator.calls())["runway"]
    assert calls["requests"] == 1 and calls["cancels"] == 1
    assert 55 <= calls["polls"] <= 70  # 5, 10, 15, 15, … s over 15 minutes
    assert await videos_left(worker.db, user.id) == 1
    async with worker.db.session() as session:
        job = (await session.execute(select(Job).where(Job.id == job_id))).scalar_one()
    assert job.error_code == "provider_timeout"
