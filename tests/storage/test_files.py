"""Uploads through the HTTP API: create → presigned form → complete → FileScanWorkflow (size
check, type sniffing, clamd with the shipped test signatures) → ready or rejected."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Replayer

import worker as worker_module
from activities.storage import FileActivities, FileSweepInput
from core import files
from core.db import Database
from core.models import FilePurpose
from core.settings import Settings
from providers.scanner import ClamdScanner
from providers.storage import ASSETS, QUARANTINE, LocalStorage
from providers.storage.s3 import S3Storage
from tests.chat.helpers import read_events
from tests.conftest import SignedIn, serve_app
from tests.storage.conftest import s3_app_settings
from tests.storage.helpers import CUSTOM_MARKER, EICAR, PE_HEADER, create, png_bytes, post_form, upload
from workflows import BACKGROUND
from workflows.file_scan import FileScanWorkflow
from workflows.file_sweeper import FileSweeperWorkflow, ensure_file_sweeper_schedule

SignIn = Callable[..., Awaitable[SignedIn]]
pytestmark = pytest.mark.usefixtures("clamd")


def local(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.storage_dir, settings.secret_key.get_secret_value())


async def replays(client: Client, workflow_id: str) -> None:
    """The recorded history replays on today's code (a change that breaks running scans fails)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    replayer = Replayer(workflows=[FileScanWorkflow], data_converter=client.data_converter)
    await replayer.replay_workflow(history)


async def test_an_image_is_scanned_promoted_downloaded_and_deleted(
    sign_in: SignIn, settings: Settings, client: Client
) -> None:
    me = await sign_in()
    image = png_bytes()
    done = await upload(me.client, "صورة العائلة.png", image, "image/png")
    assert done.upload_status == 204
    assert done.file["status"] == "ready" and done.file["reason"] is None
    store = local(settings)
    assert done.events is not None
    assert [e.data["step"] for e in done.events.of("step")] == ["started", "check", "scan", "store"]
    assert done.events.last.type == "done" and done.events.last.data["detected_type"] == "image/png"
    assert done.events.of("progress")[-1].data["done"] == len(image)

    job = (await me.client.get(f"/v1/jobs/{done.file_id}")).json()
    assert job["kind"] == "file_scan" and job["status"] == "succeeded"
    assert job["outputs"][0]["name"] == "صورة العائلة.png" and job["outputs"][0]["size"] == len(image)
    resumed = await me.client.get(
        f"/v1/jobs/{done.file_id}/events", headers={"Last-Event-ID": done.events.events[2].id}
    )
    assert resumed.text.count("event: ") == len(done.events.events) - 3

    content = await me.client.get(f"/v1/files/{done.file_id}/content")
    assert content.status_code == 302
    async with httpx.AsyncClient() as anonymous:
        downloaded = await anonymous.get(content.headers["location"])
    assert downloaded.content == image and "filename*=UTF-8''" in downloaded.headers["content-disposition"]
    stored_key = f"u/{me.user_id}/file/{done.file_id}/png"
    assert await store.exists(ASSETS, stored_key) and not await store.exists(QUARANTINE, stored_key)

    await replays(client, f"file-{done.file_id}")
    listed = (await me.client.get("/v1/files")).json()
    assert [f["id"] for f in listed] == [done.file_id]
    assert (await me.client.delete(f"/v1/files/{done.file_id}")).status_code == 204
    assert not await store.exists(ASSETS, stored_key)
    assert (await me.client.get(f"/v1/files/{done.file_id}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "signature"), [(EICAR, "Pulse.Test.EICAR"), (b"notes " + CUSTOM_MARKER, "Pulse.Test.Custom")]
)
async def test_malware_is_rejected_deleted_and_the_reason_shown_in_arabic(
    sign_in: SignIn, settings: Settings, client: Client, body: bytes, signature: str
) -> None:
    me = await sign_in(locale="ar")
    done = await upload(me.client, "eicar.txt", body, "text/plain")
    assert done.file["status"] == "rejected" and done.file["reason"]["code"] == "infected"
    assert signature in done.file["reason"]["message"] and "برمجية خبيثة" in done.file["reason"]["message"]
    assert not await local(settings).exists(QUARANTINE, f"u/{me.user_id}/file/{done.file_id}/eicar.txt")
    assert done.events is not None and done.events.last.type == "error"
    assert done.events.last.data["code"] == "infected"
    english = (await me.client.get(f"/v1/files/{done.file_id}", params={"lang": "en"})).json()
    assert english["reason"]["message"].startswith("This file contains malware")
    assert (await me.client.get(f"/v1/files/{done.file_id}/content")).json()["code"] == "file_not_ready"
    await replays(client, f"file-{done.file_id}")


async def test_bytes_that_are_not_the_declared_type_are_refused(sign_in: SignIn) -> None:
    me = await sign_in()
    done = await upload(me.client, "holiday.png", PE_HEADER + b"\x00" * 500, "image/png")
    assert done.file["status"] == "rejected" and done.file["reason"]["code"] == "type_mismatch"


async def test_wrong_type_too_large_and_full_storage_are_refused_before_upload(sign_in: SignIn) -> None:
    me = await sign_in(locale="ar")
    wrong = await create(me.client, "tool.exe", "application/x-msdownload", 1000)
    assert wrong.status_code == 415 and wrong.json()["code"] == "file_type_not_allowed"
    large = await create(me.client, "big.png", "image/png", 11 * 1024 * 1024, purpose="image_input")
    assert large.status_code == 413 and large.json()["code"] == "file_too_large"
    assert "10" in large.json()["message"]
    empty = await create(me.client, "empty.txt", "text/plain", 0)
    assert empty.status_code == 422 and empty.json()["code"] == "file_empty"
    for _ in range(5):  # Free: 100 MB; pending uploads hold their space
        assert (await create(me.client, "part.pdf", "application/pdf", 20 * 1024 * 1024)).status_code == 201
    full = await create(me.client, "one-more.txt", "text/plain", 10)
    assert full.status_code == 413 and full.json()["code"] == "storage_quota_exceeded"
    usage = (await me.client.get("/v1/files/usage")).json()
    assert usage == {"used_bytes": 100 * 1024 * 1024, "limit_bytes": 100 * 1024 * 1024}


async def test_another_users_file_is_404_on_every_route(sign_in: SignIn) -> None:
    owner, stranger = await sign_in(), await sign_in()
    done = await upload(owner.client, "a.txt", "سطر عربي\n".encode(), "text/plain")
    assert done.file["status"] == "ready"
    for method, path in (
        ("GET", f"/v1/files/{done.file_id}"),
        ("GET", f"/v1/files/{done.file_id}/content"),
        ("POST", f"/v1/files/{done.file_id}/complete"),
        ("DELETE", f"/v1/files/{done.file_id}"),
        ("GET", f"/v1/jobs/{done.file_id}"),
        ("GET", f"/v1/jobs/{done.file_id}/events"),
        ("POST", f"/v1/jobs/{done.file_id}/cancel"),
    ):
        response = await stranger.client.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] in ("file_not_found", "job_not_found")
    assert (await stranger.client.get("/v1/files")).json() == []


async def test_uploads_are_refused_while_the_scanner_is_down(settings: Settings, sign_in: SignIn) -> None:
    me = await sign_in(locale="ar")
    down = settings.model_copy(update={"clamd_socket": str(settings.var_dir / "no-clamd.sock")})
    async with serve_app(down, run_worker=False) as url:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {me.token}"}) as client:
            response = await create(client, "a.txt", "text/plain", 10)
    assert response.status_code == 503 and response.json()["code"] == "scanner_unavailable"
    assert "الفحص" in response.json()["message"] or "الفيروسات" in response.json()["message"]


async def test_a_scan_is_cancelled_through_the_job_api(
    settings: Settings, sign_in: SignIn, client: Client
) -> None:
    """POST /v1/jobs/{id}/cancel on a scan waiting for clamd (the worker's clamd is down; the
    API's answers PING): the job ends cancelled, the file is rejected as cancelled, the object
    deleted; the events end with one error; another person's cancel is 404."""
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"cx{uuid.uuid4().hex[:6]}-"})
    down = own.model_copy(update={"clamd_socket": str(settings.var_dir / "no-clamd.sock")})
    deps = worker_module.build_deps(down)
    me, stranger = await sign_in(), await sign_in()
    try:
        async with (
            worker_module.build_workers(client, deps, [BACKGROUND])[0],
            serve_app(own, run_worker=False) as url,
        ):
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=60
            ) as api:
                waiting = await upload(api, "notes.txt", b"hello there", "text/plain", wait=False)
                assert waiting.file["status"] == "scanning"
                handle = client.get_workflow_handle(f"file-{waiting.file_id}")
                for _ in range(600):  # until the scan has been tried against the dead socket
                    pending = (await handle.describe()).raw_description.pending_activities
                    if any(a.activity_type.name == "files.scan" and a.attempt >= 2 for a in pending):
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the scan never retried")
                theirs = await stranger.client.post(f"/v1/jobs/{waiting.file_id}/cancel")
                assert theirs.status_code == 404
                assert (await api.post(f"/v1/jobs/{waiting.file_id}/cancel")).status_code == 202
                stream = await read_events(api, f"/v1/jobs/{waiting.file_id}/events")
                job = (await api.get(f"/v1/jobs/{waiting.file_id}")).json()
                final = (await api.get(f"/v1/files/{waiting.file_id}", params={"lang": "en"})).json()
    finally:
        await deps.aclose()
    assert [e.type for e in stream.events if e.type in ("done", "error")] == ["error"]
    assert job["status"] == "cancelled" and job["outputs"] == []
    assert final["status"] == "rejected" and final["reason"]["code"] == "cancelled"
    key = f"u/{me.user_id}/file/{waiting.file_id}/notes.txt"
    assert not await local(settings).exists(QUARANTINE, key) and not await local(settings).exists(ASSETS, key)


async def test_s3_upload_scan_and_a_body_larger_than_declared(
    settings: Settings, s3_url: str, s3_storage: S3Storage, sign_in: SignIn, client: Client, run_id: str
) -> None:
    """The S3 backend end to end on moto: the browser posts straight to the quarantine bucket;
    a body that differs from the declared size (moto does not enforce the signed
    content-length-range) is caught when the upload completes (4xx) and deleted."""
    own = s3_app_settings(settings, s3_url, run_id)
    deps = worker_module.build_deps(own)
    workers = worker_module.build_workers(client, deps, [BACKGROUND])
    me = await sign_in()
    try:
        async with workers[0], serve_app(own, run_worker=False) as url:
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=60
            ) as api:
                image = png_bytes(32, 32)
                done = await upload(api, "photo.png", image, "image/png", purpose="cv_photo")
                assert done.created["upload"]["url"].startswith(s3_url)
                assert done.file["status"] == "ready", done.file
                assert await s3_storage.get(ASSETS, f"u/{me.user_id}/file/{done.file_id}/photo.png") == image
                content = await api.get(f"/v1/files/{done.file_id}/content")
                async with httpx.AsyncClient() as anonymous:
                    assert (await anonymous.get(content.headers["location"])).content == image

                # moto stores a body larger than the signed content-length-range: complete
                # checks the object's size (HEAD), rejects the file and deletes the object
                declared = b"%PDF-1.4 " + b"x" * 100
                liar = await upload(api, "doc.pdf", declared, "application/pdf", sent=b"%PDF" * 200)
                assert liar.upload_status == 204 and liar.completed is not None
                assert (liar.completed["status"], liar.completed["code"]) == (413, "upload_too_large")
                assert liar.file["status"] == "rejected" and liar.file["reason"]["code"] == "size_mismatch"
                assert not await s3_storage.exists(QUARANTINE, f"u/{me.user_id}/file/{liar.file_id}/doc.pdf")
                again = await api.post(f"/v1/files/{liar.file_id}/complete")
                assert again.status_code == 202 and again.json()["status"] == "rejected"  # no scan starts
                short = await upload(api, "a.pdf", declared, "application/pdf", sent=b"%PDF-1.4")
                assert short.completed is not None and short.completed["code"] == "upload_size_mismatch"
                assert short.completed["status"] == 422 and short.file["status"] == "rejected"
                early = (await create(api, "b.pdf", "application/pdf", 50)).json()
                missing = await api.post(f"/v1/files/{early['file_id']}/complete", params={"lang": "ar"})
                assert missing.status_code == 409 and missing.json()["code"] == "upload_missing"
                assert "الملف" in missing.json()["message"]
                pending = (await api.get(f"/v1/files/{early['file_id']}")).json()
                assert pending["status"] == "pending"  # the form may still be posted
                arrived = await post_form(early["upload"], b"%PDF-1.4" + b"y" * 42, "application/pdf")
                assert arrived.status_code == 204
                assert (await api.post(f"/v1/files/{early['file_id']}/complete")).status_code == 202
    finally:
        await deps.aclose()


async def test_the_sweeper_expires_uploads_never_completed(
    sign_in: SignIn, settings: Settings, worker: worker_module.WorkerDeps, client: Client
) -> None:
    me = await sign_in()
    created = (await create(me.client, "never.txt", "text/plain", 5)).json()
    await post_form(created["upload"], b"12345", "text/plain")  # uploaded, never completed
    store = local(settings)
    key = f"u/{me.user_id}/file/{created['file_id']}/never.txt"
    assert await store.exists(QUARANTINE, key)
    sweep = FileActivities(settings, worker.db, worker.bus, store, ClamdScanner(settings)).sweep
    result = await sweep(FileSweepInput(pending_grace_seconds=0))
    assert result.expired >= 1 and not await store.exists(QUARANTINE, key)
    # the scheduled workflow runs the same sweep (nothing left to expire now)
    again = await client.execute_workflow(
        FileSweeperWorkflow.run,
        FileSweepInput(pending_grace_seconds=0),
        id=f"files-sweep-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue(BACKGROUND),
    )
    assert again.expired == 0
    swept = (await me.client.get(f"/v1/files/{created['file_id']}", params={"lang": "en"})).json()
    assert swept["status"] == "rejected" and swept["reason"]["code"] == "expired"
    assert await ensure_file_sweeper_schedule(client, settings) in ("created", "updated")
    description = await client.get_schedule_handle(
        f"{settings.temporal_task_queue_prefix}files-sweeper"
    ).describe()
    assert (
        description.schedule.spec.intervals[0].every.total_seconds() == settings.files_sweep_interval_seconds
    )


async def test_the_sweeper_deletes_an_object_that_outlived_its_files_rejection(
    sign_in: SignIn, settings: Settings, worker: worker_module.WorkerDeps
) -> None:
    """A rejected file's form is still valid for its 10 minutes: posted again after the
    rejection, the object lands in quarantine once more. The sweep deletes it (never scanned,
    never served), and the file stays rejected with its reason."""
    me = await sign_in()
    done = await upload(me.client, "eicar.txt", EICAR, "text/plain")
    assert done.file["status"] == "rejected" and done.file["reason"]["code"] == "infected"
    store = local(settings)
    key = f"u/{me.user_id}/file/{done.file_id}/eicar.txt"
    assert not await store.exists(QUARANTINE, key)
    assert (await post_form(done.created["upload"], EICAR, "text/plain")).status_code == 204
    assert await store.exists(QUARANTINE, key)  # back, after its verdict
    sweep = FileActivities(settings, worker.db, worker.bus, store, ClamdScanner(settings)).sweep
    result = await sweep(FileSweepInput(pending_grace_seconds=3600))
    assert result.deleted_objects >= 1 and not await store.exists(QUARANTINE, key)
    kept = (await me.client.get(f"/v1/files/{done.file_id}")).json()
    assert kept["status"] == "rejected" and kept["reason"]["code"] == "infected"
    assert (await me.client.get(f"/v1/files/{done.file_id}/content")).json()["code"] == "file_not_ready"


async def test_the_plan_caps_one_file(sign_in: SignIn, db: Database, settings: Settings) -> None:
    """The largest file is a setting per plan too (beside the purpose's cap and clamd's)."""
    me = await sign_in()
    capped = settings.model_copy(update={"files_plan_max_mb": {"free": 1}})
    fields = {"user_id": me.user_id, "name": "a.pdf", "content_type": "application/pdf"}
    async with db.session() as session:
        with pytest.raises(files.FileTooLarge) as refused:
            await files.create_file(
                session, capped, **fields, size=2 * 1024 * 1024, purpose=FilePurpose.chat, key_for=str
            )
        assert refused.value.params == {"limit_mb": 1}
        row = await files.create_file(
            session, capped, **fields, size=1024 * 1024, purpose=FilePurpose.chat, key_for=str
        )
        assert row.status == "pending"
        await session.rollback()
