"""The job pipeline as a new kind uses it: a probe workflow (this file) runs the saga and the
submit/await helper on the real worker stack; the job API answers over HTTP.

The probe's "provider" is a set of test activities (what a kind's provider activities would
be); everything else — ledger, job rows, stream bus, storage, SSE, cancel — is the real code."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import select
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

import worker as worker_module
from activities.jobs import OutputRef, publish_progress
from core import jobs
from core.db import Database
from core.models import LedgerReservation
from providers.storage import ASSETS, object_key
from tests.chat.helpers import read_events
from tests.conftest import SignedIn
from workflows.pipeline import (
    PROVIDER_UPDATE,
    JobOutcome,
    JobRef,
    JobResult,
    JobSaga,
    ProviderJob,
    ProviderUpdate,
    signal_provider_update,
)

SignIn = Callable[..., Awaitable[SignedIn]]


@dataclass
class ProbeInput:
    job_id: str
    user_id: str
    locale: str = "ar"
    tokens: int = 40


@dataclass
class StoreInput:
    job_id: str
    user_id: str


class FakeProvider:
    """The probe's provider: a job per submit; the test decides how each one ends."""

    def __init__(self, deps: worker_module.WorkerDeps) -> None:
        self.deps = deps
        self.submits: Counter[str] = Counter()
        self.polls: Counter[str] = Counter()
        self.cancels: Counter[str] = Counter()
        self.outcome: dict[str, ProviderUpdate] = {}  # by provider id, once it "finishes"

    @activity.defn(name="probe.submit")
    async def submit(self, job_id: str) -> str:
        self.submits[job_id] += 1
        return f"p-{job_id}"

    @activity.defn(name="probe.poll")
    async def poll(self, provider_job_id: str) -> ProviderUpdate:
        self.polls[provider_job_id] += 1
        return self.outcome.get(provider_job_id, ProviderUpdate(provider_job_id, "running"))

    @activity.defn(name="probe.cancel")
    async def cancel(self, provider_job_id: str) -> None:
        self.cancels[provider_job_id] += 1

    @activity.defn(name="probe.store")
    async def store(self, data: StoreInput) -> OutputRef:
        body = "نتيجة المهمة\n".encode() * 100
        key = object_key(data.user_id, "probe", data.job_id, "result.txt")
        for done in (len(body) // 2, len(body)):
            await publish_progress(self.deps.bus, data.job_id, "store", done, len(body))
        info = await self.deps.storage.put(ASSETS, key, body, "text/plain; charset=utf-8")
        return OutputRef("نتيجة.txt", key, info.content_type, info.size)


@workflow.defn(name="PipelineProbeWorkflow", sandboxed=False)
class PipelineProbeWorkflow:
    def __init__(self) -> None:
        self.provider = ProviderJob()

    @workflow.signal(name=PROVIDER_UPDATE)
    def provider_update(self, update: ProviderUpdate) -> None:
        self.provider.deliver(update)

    @workflow.run
    async def run(self, data: ProbeInput) -> JobOutcome:
        saga = JobSaga(
            JobRef(data.job_id, data.user_id, "probe", workflow.info().workflow_id), locale=data.locale
        )

        async def work() -> JobResult:
            await saga.reserve("tokens", 100)
            await saga.step("render")
            await self.provider.submit_and_await(
                FakeProvider.submit,
                data.job_id,
                FakeProvider.poll,
                cancel=FakeProvider.cancel,
                first_poll=timedelta(milliseconds=100),
                max_poll=timedelta(milliseconds=400),
            )
            await saga.step("store")
            output = await workflow.execute_activity_method(
                FakeProvider.store,
                StoreInput(data.job_id, data.user_id),
                start_to_close_timeout=timedelta(seconds=30),
            )
            return JobResult(outputs=[output], usage={"tokens": data.tokens})

        return await saga.run(work)


@dataclass
class Probe:
    client: Client
    queue: str
    provider: FakeProvider
    db: Database

    async def start(self, user: SignedIn) -> str:
        job_id = uuid.uuid4().hex
        workflow_id = f"probe-{job_id}"
        async with self.db.session() as session:  # as a kind's create route does
            await jobs.ensure_job(
                session, job_id=job_id, user_id=user.user_id, kind="probe", workflow_id=workflow_id
            )
        await self.client.start_workflow(
            PipelineProbeWorkflow.run, ProbeInput(job_id, user.user_id), id=workflow_id, task_queue=self.queue
        )
        return job_id

    async def result(self, job_id: str) -> JobOutcome:
        handle = self.client.get_workflow_handle_for(PipelineProbeWorkflow.run, f"probe-{job_id}")
        return await handle.result()

    async def reservation(self, job_id: str) -> LedgerReservation:
        async with self.db.session() as session:
            query = select(LedgerReservation).where(LedgerReservation.key == f"probe-{job_id}:tokens")
            return (await session.execute(query)).scalar_one()


@pytest_asyncio.fixture
async def probe(client: Client, worker: worker_module.WorkerDeps, db: Database) -> AsyncIterator[Probe]:
    provider = FakeProvider(worker)
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    activities: list[Any] = [
        *worker_module.activity_functions(worker),
        provider.submit,
        provider.poll,
        provider.cancel,
        provider.store,
    ]
    running = Worker(client, task_queue=queue, workflows=[PipelineProbeWorkflow], activities=activities)
    async with running:
        yield Probe(client, queue, provider, db)


async def wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_a_job_polls_its_provider_stores_settles_and_streams_resumable_events(
    probe: Probe, sign_in: SignIn
) -> None:
    me = await sign_in()
    job_id = await probe.start(me)
    provider_id = f"p-{job_id}"
    await wait_for(lambda: probe.provider.polls[provider_id] >= 2)  # durable polling with backoff
    probe.provider.outcome[provider_id] = ProviderUpdate(provider_id, "succeeded", output=["https://x/y.png"])
    outcome = await probe.result(job_id)
    assert outcome.status == "succeeded" and outcome.usage == {"tokens": 40}
    assert probe.provider.submits[job_id] == 1

    body = (await me.client.get(f"/v1/jobs/{job_id}")).json()
    assert body["status"] == "succeeded" and body["kind"] == "probe" and body["error"] is None
    assert body["usage"]["tokens"] == 40
    [output] = body["outputs"]
    assert output["name"] == "نتيجة.txt" and output["content_type"].startswith("text/plain")
    async with httpx.AsyncClient() as anonymous:  # the signed link needs no session
        download = await anonymous.get(output["url"])
    assert download.status_code == 200 and download.content.decode().startswith("نتيجة المهمة")
    reservation = await probe.reservation(job_id)
    assert (reservation.status, reservation.amount, reservation.charged) == ("settled", 100, 40)

    stream = await read_events(me.client, f"/v1/jobs/{job_id}/events")
    kinds = [e.type for e in stream.events]
    steps = [e.data["step"] for e in stream.of("step")]
    assert steps == ["started", "render", "store"] and kinds[-1] == "done"
    assert [(e.data["done"], e.data["total"]) for e in stream.of("progress")] == [(1200, 2400), (2400, 2400)]
    assert all(e.data["attempt"] >= 1 for e in stream.events)
    assert stream.last.data["outputs"][0]["name"] == "نتيجة.txt"
    resumed = await read_events(me.client, f"/v1/jobs/{job_id}/events", last_event_id=stream.events[1].id)
    assert [e.id for e in resumed.events] == [e.id for e in stream.events[2:]]

    listed = (await me.client.get("/v1/jobs", params={"kind": "probe", "status": "succeeded"})).json()
    assert [j["id"] for j in listed] == [job_id]
    assert (await me.client.get("/v1/jobs", params={"status": "nonsense"})).status_code == 422


async def test_a_webhook_signal_ends_the_wait_without_a_second_submit(probe: Probe, sign_in: SignIn) -> None:
    me = await sign_in()
    job_id = await probe.start(me)
    await wait_for(lambda: probe.provider.submits[job_id] == 1)
    update = ProviderUpdate(f"p-{job_id}", "succeeded")
    await signal_provider_update(probe.client, f"probe-{job_id}", update)
    await signal_provider_update(probe.client, f"probe-{job_id}", update)  # webhooks repeat
    assert (await probe.result(job_id)).status == "succeeded"
    assert probe.provider.submits[job_id] == 1


async def test_a_refused_provider_job_fails_released_with_a_translated_reason(
    probe: Probe, sign_in: SignIn
) -> None:
    me = await sign_in(locale="ar")
    job_id = await probe.start(me)
    provider_id = f"p-{job_id}"
    probe.provider.outcome[provider_id] = ProviderUpdate(provider_id, "failed", error="content_refused")
    outcome = await probe.result(job_id)
    assert (outcome.status, outcome.error_code) == ("failed", "content_refused")
    assert (await probe.reservation(job_id)).status == "released"
    ar = (await me.client.get(f"/v1/jobs/{job_id}", params={"lang": "ar"})).json()
    en = (await me.client.get(f"/v1/jobs/{job_id}", params={"lang": "en"})).json()
    assert ar["error"]["code"] == "content_refused" and "refused" in en["error"]["message"]
    assert ar["error"]["message"] != en["error"]["message"] and ar["usage"]["tokens"] == 0
    stream = await read_events(me.client, f"/v1/jobs/{job_id}/events")
    assert stream.last.type == "error" and stream.last.data["code"] == "content_refused"


async def test_cancel_releases_cancels_the_provider_job_and_others_get_404(
    probe: Probe, sign_in: SignIn
) -> None:
    me = await sign_in()
    stranger = await sign_in()
    job_id = await probe.start(me)
    await wait_for(lambda: probe.provider.polls[f"p-{job_id}"] >= 1)
    for method, path in (
        ("GET", f"/v1/jobs/{job_id}"),
        ("GET", f"/v1/jobs/{job_id}/events"),
        ("POST", f"/v1/jobs/{job_id}/cancel"),
    ):
        response = await stranger.client.request(method, path)
        assert response.status_code == 404 and response.json()["code"] == "job_not_found", path
    assert (await stranger.client.get("/v1/jobs", params={"kind": "probe"})).json() == []

    cancel = await me.client.post(f"/v1/jobs/{job_id}/cancel")
    assert cancel.status_code == 202 and cancel.json()["status"] == "cancelling"
    outcome = await probe.result(job_id)
    assert (outcome.status, outcome.error_code) == ("cancelled", "cancelled")
    assert probe.provider.cancels[f"p-{job_id}"] == 1
    assert (await probe.reservation(job_id)).status == "released"
    body = (await me.client.get(f"/v1/jobs/{job_id}")).json()
    assert body["status"] == "cancelled" and body["error"]["code"] == "cancelled"
    again = await me.client.post(f"/v1/jobs/{job_id}/cancel")  # a finished job keeps its outcome
    assert again.json()["status"] == "cancelled"
