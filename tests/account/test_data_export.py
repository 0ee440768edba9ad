"""Issue 24 item 12, "download your data": POST /v1/account/export runs DataExportWorkflow on the
job pipeline; the archive (data.json + every upload and job output) is stored, offered as a
short-lived link on the job and by email (ar/en) through /account/export/{id}, kept 7 days."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import re
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from temporalio.client import Client

from activities.data_export import DataExportActivities
from activities.job_sweeper import job_sweeper
from core import jobs
from core.db import Database
from core.models import Job, Payment
from core.models.base import new_id, utcnow
from core.settings import Settings
from tests.chat.helpers import read_events
from tests.conftest import EmulatorControl, SignedIn, link_path, mailbox_ids
from tests.images.helpers import outcome
from tests.images.helpers import start as start_image
from tests.storage.helpers import png_bytes, upload
from workflows.starters import start_file_scan

pytestmark = pytest.mark.usefixtures("clamd")
ARABIC = re.compile(r"[\u0600-\u06FF]")


async def fill_account(me: SignedIn, db: Database) -> dict[str, Any]:
    """A conversation, an uploaded file, an image job's outputs and a payment: real flows."""
    turn = await me.client.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "ما عاصمة الأردن؟"})
    assert (await read_events(me.client, turn.json()["events_url"])).last.type == "done"
    photo = png_bytes(32, 24)
    uploaded = await upload(me.client, "صورة البتراء.png", photo, "image/png")
    assert uploaded.file["status"] == "ready"
    image_job = await start_image(me.client)
    assert (await outcome(me.client, image_job))["status"] == "succeeded"
    async with db.session() as session:
        session.add(
            Payment(
                id=new_id(),
                user_id=me.user_id,
                kind="addon",
                item_id="images_10",
                amount_fils=1000,
                status="succeeded",
            )
        )
    return {"file_id": uploaded.file_id, "photo": photo, "image_job": image_job}


async def finished(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    return await outcome(client, job_id, timeout=60)


async def fetch(url: str) -> bytes:
    async with httpx.AsyncClient(timeout=30) as anonymous:  # a signed link needs no session
        response = await anonymous.get(url)
    assert response.status_code == 200, response.text
    return response.content


async def emailed_link(client: httpx.AsyncClient, email: str, seen: set[str]) -> dict[str, Any]:
    for _ in range(400):
        for message in (await client.get("/dev/mailbox.json", params={"to": email})).json():
            if message["id"] not in seen and "/account/export/" in (message.get("link") or ""):
                return dict(message)
        await asyncio.sleep(0.05)
    raise AssertionError("no data-export email")


async def test_export_archive_holds_everything_and_is_offered_by_link_and_email(
    sign_in_cookie: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in_cookie(locale="ar")
    made = await fill_account(me, db)
    seen = await mailbox_ids(me.client, me.email)

    asked = await me.client.post("/v1/account/export")
    assert asked.status_code == 202, asked.text
    body = asked.json()
    assert ARABIC.search(body["message"]) and body["download_url"] == f"/account/export/{body['job_id']}"
    job = await finished(me.client, body["job_id"])
    assert job["kind"] == "export" and job["status"] == "succeeded", job
    assert job["usage"] == {"tokens": 0, "images": 0, "videos": 0}  # an export costs no quota
    [archive_out] = job["outputs"]
    assert archive_out["name"] == "pulse-data.zip" and archive_out["content_type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await fetch(archive_out["url"])))
    data = json.loads(archive.read("data.json"))

    assert data["profile"]["email"] == me.email and data["profile"]["id"] == me.user_id
    [conversation] = data["conversations"]
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][0]["content"] == "ما عاصمة الأردن؟"
    [payment] = data["payments"]
    assert payment["item_id"] == "images_10" and payment["amount_fils"] == 1000
    assert {e["kind"] for e in data["usage"]} >= {"grant", "reserve", "settle"}
    assert all("token_hash" not in s and "key_hash" not in s for s in data["sessions"] + data["api_keys"])
    [stored] = [f for f in data["files"] if f["id"] == made["file_id"]]
    assert stored["name"] == "صورة البتراء.png" and archive.read(stored["path"]) == made["photo"]
    [image_job] = [j for j in data["jobs"] if j["id"] == made["image_job"]]
    for output in image_job["outputs"]:  # what the job produced, byte for byte
        assert len(archive.read(output["path"])) == output["size"]
    assert not [j for j in data["jobs"] if j["kind"] == "export"]
    assert "README.txt" in archive.namelist() and ARABIC.search(archive.read("README.txt").decode())

    email = await emailed_link(me.client, me.email, seen)
    assert ARABIC.search(email["subject"]) and email["link"].endswith(body["download_url"])
    page = await me.client.get(link_path(email["link"]))  # the owner: a fresh signed link
    assert page.status_code == 303 and page.headers["cache-control"] == "no-store"
    signed = httpx.URL(str(me.client.base_url)).join(page.headers["location"])
    assert await fetch(str(signed)) == await fetch(archive_out["url"])


async def test_export_link_is_the_owners_and_expires_after_seven_days(
    sign_in_cookie: Any, db: Database, worker: Any
) -> None:
    me, other = await sign_in_cookie(locale="en"), await sign_in_cookie(locale="en")
    job_id = (await me.client.post("/v1/account/export")).json()["job_id"]
    job = await finished(me.client, job_id)
    assert job["status"] == "succeeded"
    path = f"/account/export/{job_id}"
    assert (await other.client.get(path)).status_code == 404
    assert (await other.client.get(f"/v1/jobs/{job_id}")).status_code == 404
    async with httpx.AsyncClient(base_url=str(me.client.base_url)) as visitor:
        signed_out = await visitor.get(path, headers={"accept": "text/html"})
    assert signed_out.status_code in (302, 303) and "/signin" in signed_out.headers["location"]

    async with db.session() as session:  # eight days later
        await session.execute(
            update(Job).where(Job.id == job_id).values(updated_at=utcnow() - timedelta(days=8))
        )
    expired = await me.client.get(path, headers={"accept": "application/json"})
    assert expired.status_code == 410 and expired.json()["code"] == "export_expired"

    key = job["outputs"][0]
    activities = DataExportActivities(db, worker.storage, worker.bus)
    assert await activities.expire_exports(timedelta(days=7)) >= 1  # the archive is deleted
    assert await activities.expire_exports(timedelta(days=7)) == 0  # once
    async with db.reader() as session:
        row = await session.get(Job, job_id)
    assert row is not None and row.outputs is None and key["name"] == "pulse-data.zip"
    assert (await me.client.get(f"/v1/jobs/{job_id}")).json()["outputs"] == []


async def test_asking_again_while_it_is_built_returns_the_same_export(
    sign_in: Any, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    first, second = await asyncio.gather(*(me.client.post("/v1/account/export") for _ in range(2)))
    assert first.status_code == second.status_code == 202
    assert first.json()["job_id"] == second.json()["job_id"]  # the second waited for the first's row
    assert (await finished(me.client, first.json()["job_id"]))["status"] == "succeeded"
    assert len((await me.client.get("/v1/jobs", params={"kind": "export"})).json()) == 1


async def test_an_export_row_left_without_its_workflow_is_failed_so_a_new_one_can_start(
    sign_in: Any, db: Database, settings: Settings, client: Client, worker: Any
) -> None:
    """The API died between committing the row and starting the workflow: the job sweeper fails
    the row (it would otherwise answer every new request as "being prepared")."""
    me = await sign_in(locale="en")
    stale = new_id()
    async with db.session() as session:
        await jobs.ensure_job(
            session, job_id=stale, user_id=me.user_id, kind="export", workflow_id=f"export-{stale}"
        )
    waiting = await me.client.post("/v1/account/export")
    assert waiting.json()["job_id"] == stale  # looks like one being built
    async with db.session() as session:
        await session.execute(
            update(Job).where(Job.id == stale).values(updated_at=utcnow() - timedelta(minutes=5))
        )
    sweeper = job_sweeper(
        settings, db, worker.llm, worker.bus, client, functools.partial(start_file_scan, client, settings)
    )
    assert (await sweeper.sweep_once()).repaired >= 1
    failed = (await me.client.get(f"/v1/jobs/{stale}")).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "service_unavailable"
    fresh = await me.client.post("/v1/account/export")
    assert fresh.json()["job_id"] != stale
    assert (await finished(me.client, fresh.json()["job_id"]))["status"] == "succeeded"
