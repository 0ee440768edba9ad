"""CV jobs through the HTTP API on the real worker stack (Temporal dev server, PostgreSQL,
storage, the emulator): renders in each template, AI assist billed once with a bad reply
retried, quota refusals, owner checks."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import PendingActivityState

from core.cv.schema import CvContent, Template
from core.cv.text import Words
from core.cv.textcheck import check_text, fonts_in
from core.db import Database
from core.models import LedgerEntry, LedgerReservation
from tests.chat.helpers import read_events
from tests.chat.test_turns import leave_only, tokens_usage
from tests.conftest import EmulatorControl
from tests.cv.samples import arabic_cv, english_cv

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


async def record(client: Any, workflow_id: str, name: str) -> None:
    """With PULSE_RECORD_HISTORIES=1, keep this run's history for the replay test."""
    if not os.environ.get("PULSE_RECORD_HISTORIES"):
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
    path = HISTORIES / started / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json() + "\n", encoding="utf-8")


async def finished(client: httpx.AsyncClient, started: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    stream = await read_events(client, started["events_url"])
    job = (await client.get(f"/v1/jobs/{started['job_id']}")).json()
    return stream, job


async def download(client: httpx.AsyncClient, job: dict[str, Any], name: str) -> bytes:
    output = next(o for o in job["outputs"] if o["name"] == name)
    response = await client.get(output["url"])
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.parametrize("sample", [arabic_cv, english_cv])
async def test_renders_in_each_template_and_reads_back(sign_in: Any, sample: Any) -> None:
    me = await sign_in()
    cv = (await me.client.post("/v1/cv", json=sample())).json()
    content = CvContent.model_validate(cv["content"])
    for template in Template:
        started = await me.client.post(f"/v1/cv/{cv['id']}/render", json={"template": template.value})
        assert started.status_code == 202, started.text
        stream, job = await finished(me.client, started.json())
        assert stream.last.type == "done", stream.events
        steps = [e.data.get("step") for e in stream.of("step")]
        assert steps[-3:] == ["render", "check", "thumbnail"], steps
        assert job["status"] == "succeeded" and job["kind"] == "cv"
        assert {o["name"] for o in job["outputs"]} == {"cv.pdf", "page-1.png"}
        assert job["usage"]["tokens"] == 0  # no AI step, nothing billed
        pdf = await download(me.client, job, "cv.pdf")
        assert pdf.startswith(b"%PDF")
        assert check_text(pdf, content, Words(content.locale, "latin")).ok
        assert all(f.embedded and f.subset for f in fonts_in(pdf))
        assert (await download(me.client, job, "page-1.png")).startswith(b"\x89PNG")


async def test_another_users_cv_and_job_are_not_found(sign_in: Any, client: Any) -> None:
    owner, other = await sign_in(), await sign_in()
    cv = (await owner.client.post("/v1/cv", json=arabic_cv())).json()
    refused = await other.client.post(f"/v1/cv/{cv['id']}/render", json={})
    assert refused.status_code == 404 and refused.json()["code"] == "cv_not_found"
    started = (await owner.client.post(f"/v1/cv/{cv['id']}/render", json={})).json()
    assert (await other.client.get(f"/v1/jobs/{started['job_id']}")).status_code == 404
    assert (await other.client.post(f"/v1/jobs/{started['job_id']}/cancel")).status_code == 404
    stream, job = await finished(owner.client, started)
    assert job["status"] == "succeeded"
    await record(client, f"cv-{job['id']}", "cvrender-plain")


async def test_assist_drafts_arabic_bullets_billed_once_after_a_bad_reply(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Any
) -> None:
    me = await sign_in()
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    before = await tokens_usage(db, me.user_id)
    await emulator.fault(provider="openai", kind="invalid_json", count=1)
    started = await me.client.post(
        f"/v1/cv/{cv['id']}/assist",
        json={"action": "draft_bullets", "work_index": 0, "notes": "قدت فريق الدفع وخفضت الأعطال"},
    )
    assert started.status_code == 202, started.text
    stream, job = await finished(me.client, started.json())
    assert stream.last.type == "done", stream.events
    assert stream.last.data["attempts"] == 2  # the reply that broke the schema was asked again
    await record(client, f"cv-assist-{job['id']}", "cvassist-retried-reply")
    suggestion = json.loads(await download(me.client, job, "suggestion.json"))
    assert suggestion["field"] == "work.0.highlights" and suggestion["bullets"]
    assert all(any("\u0600" <= c <= "\u06ff" for c in b) for b in suggestion["bullets"])  # Arabic
    calls = await emulator.settled()
    assert calls["openai"]["requests"] == 2
    # billed once: one reservation, settled once, for the valid reply's tokens only
    async with db.session() as session:
        key = f"cv-assist-{job['id']}:tokens"
        reservation = (
            await session.execute(select(LedgerReservation).where(LedgerReservation.key == key))
        ).scalar_one()
        entries = (
            (await session.execute(select(LedgerEntry.kind).where(LedgerEntry.key == key))).scalars().all()
        )
    assert reservation.status == "settled" and reservation.charged == job["usage"]["tokens"]
    assert sorted(entries) == ["reserve", "settle"]
    after = await tokens_usage(db, me.user_id)
    assert after.used - before.used == job["usage"]["tokens"] > 0 and after.reserved == 0
    # nothing changed in the CV: the suggestion waits for the person
    assert (await me.client.get(f"/v1/cv/{cv['id']}")).json()["version"] == 1


async def test_quota_exhausted_nothing_rendered(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Any
) -> None:
    me = await sign_in(locale="en")
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    await leave_only(db, me.user_id, tokens=10)
    started = (await me.client.post(f"/v1/cv/{cv['id']}/render", json={"locale": "en"})).json()
    stream, job = await finished(me.client, started)
    assert stream.last.type == "error" and stream.last.data["code"] == "quota_exceeded"
    assert job["status"] == "failed" and job["outputs"] == []
    assert job["error"]["code"] == "quota_exceeded" and "quota" in job["error"]["message"]
    assert (await emulator.settled())["openai"]["requests"] == 0
    assert (await tokens_usage(db, me.user_id)).reserved == 0
    await record(client, f"cv-{job['id']}", "cvrender-quota-exceeded")


async def test_render_in_the_other_language_translates_first(sign_in: Any, db: Database, client: Any) -> None:
    me = await sign_in()
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    started = (
        await me.client.post(f"/v1/cv/{cv['id']}/render", json={"locale": "en", "template": "ats"})
    ).json()
    stream, job = await finished(me.client, started)
    assert stream.last.type == "done", stream.events
    assert {o["name"] for o in job["outputs"]} == {"cv.pdf", "page-1.png", "cv-en.json"}
    translated = CvContent.model_validate(json.loads(await download(me.client, job, "cv-en.json")))
    assert translated.locale == "en"
    # contact details and dates never go to the model
    assert translated.basics.email == "layla@example.com" and translated.work[0].startDate == "2021-01"
    pdf = await download(me.client, job, "cv.pdf")
    assert check_text(pdf, translated, Words("en", "latin")).ok
    assert job["usage"]["tokens"] > 0 and (await tokens_usage(db, me.user_id)).reserved == 0
    await record(client, f"cv-{job['id']}", "cvrender-translated")


async def test_bad_requests_answer_4xx_with_codes(sign_in: Any) -> None:
    me = await sign_in(locale="en")
    cv = (await me.client.post("/v1/cv", json=english_cv())).json()
    bad_template = await me.client.post(f"/v1/cv/{cv['id']}/render", json={"template": "fancy"})
    assert bad_template.status_code == 422 and bad_template.json()["code"] == "validation_error"
    no_role = await me.client.post(
        f"/v1/cv/{cv['id']}/assist", json={"action": "draft_bullets", "work_index": 9}
    )
    assert no_role.status_code == 422 and no_role.json()["code"] == "cv_invalid"
    no_jd = await me.client.post(f"/v1/cv/{cv['id']}/assist", json={"action": "tailor"})
    assert no_jd.status_code == 422 and no_jd.json()["code"] == "cv_invalid"


class _Killed(Exception):
    pass


def activity_attempts(history: Any, activity_type: str) -> list[int]:
    """The attempt that ran to the end, for each scheduling of ``activity_type``."""
    scheduled = {
        e.event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == activity_type
    }
    return [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]


async def running(client: Any, workflow_id: str, activity_type: str) -> bool:
    """Whether a worker has started ``activity_type`` in that workflow (and not finished it)."""
    description = await client.get_workflow_handle(workflow_id).describe()
    return any(
        pending.activity_type.name == activity_type
        and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        for pending in description.raw_description.pending_activities
    )


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["translate", "render"])
async def test_documents_worker_killed_mid_job_completes_once_billed_once(
    settings: Any,
    sign_in: Any,
    db: Database,
    emulator: EmulatorControl,
    client: Any,
    tmp_path: Path,
    kill_at: str,
) -> None:
    """kill -9 of the only documents worker while the job's translation is streaming, or while
    it renders the PDF; a new worker finishes the job: one PDF, one reservation settled once,
    for the completed translation (a kill mid-render does not translate again)."""
    import uuid

    from tests.conftest import serve_app
    from tests.processes import kill_hard, pulse_process, settings_env

    own = settings.model_copy(update={"temporal_task_queue_prefix": f"cvchaos{uuid.uuid4().hex[:6]}-"})
    me = await sign_in()
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    if kill_at == "translate":
        await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.15)
    async with serve_app(own, run_worker=False) as url:
        http = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=60)
        with pulse_process(["worker", "-q", "documents"], settings_env(own), tmp_path / "w1.log") as first:
            started = (await http.post(f"/v1/cv/{cv['id']}/render", json={"locale": "en"})).json()
            last_id = ""

            async def under_way() -> bool:
                """The translation's model call, or the render activity, is running."""
                if kill_at == "translate":
                    return bool((await emulator.calls()).get("openai", {}).get("requests"))
                return await running(client, f"cv-{started['job_id']}", "cv.render")

            async def on_event(event: Any) -> None:
                nonlocal last_id
                last_id = event.id
                if event.type == "step" and event.data.get("step") == kill_at:
                    for _ in range(400):  # at most 10 s
                        if await under_way():
                            break
                        await asyncio.sleep(0.025)
                    kill_hard(first)
                    raise _Killed

            # the steps up to ``kill_at``: then the worker is gone and no event follows for a while
            with pytest.raises(_Killed):
                await read_events(http, started["events_url"], on_event=on_event)
        with pulse_process(["worker", "-q", "documents"], settings_env(own), tmp_path / "w2.log"):
            stream = await read_events(http, started["events_url"], last_event_id=last_id)
            job = (await http.get(f"/v1/jobs/{started['job_id']}")).json()
        await http.aclose()
    assert stream.last.type == "done", stream.events
    assert job["status"] == "succeeded" and sorted(o["name"] for o in job["outputs"]) == [
        "cv-en.json",
        "cv.pdf",
        "page-1.png",
    ]
    history = await client.get_workflow_handle(f"cv-{job['id']}").fetch_history()
    if kill_at == "translate":  # the killed attempt, then one more
        assert (await emulator.settled())["openai"]["requests"] == 2
    else:  # the render was under way when the worker died: retried, the translation kept
        assert activity_attempts(history, "cv.render") == [2]
        assert (await emulator.settled())["openai"]["requests"] == 1
    async with db.session() as session:
        key = f"cv-{job['id']}:tokens"
        entries = (
            (await session.execute(select(LedgerEntry.kind).where(LedgerEntry.key == key))).scalars().all()
        )
    assert sorted(entries) == ["reserve", "settle"]
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == job["usage"]["tokens"] > 0 and tokens.reserved == 0
