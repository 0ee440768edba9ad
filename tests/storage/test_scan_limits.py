"""Files over the scanner's limit are refused as such, never passed unscanned, and never retried
as if clamd were down: our client refuses a stream above ``clamd_max_bytes`` before sending it,
and when clamd's own ``StreamMaxLength`` is the lower one (a clamd configured apart from our
settings), its refusal — it answers and closes the socket mid-stream — is the verdict.
Real clamd with the shipped test signatures, real API and worker."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

import worker as worker_module
from core.settings import Settings
from providers.scanner import ClamdScanner
from providers.scanner.clamd import ScanLimitExceeded
from providers.scanner.daemon import TEST_SIGNATURES, start_clamd
from providers.storage import ASSETS, QUARANTINE, LocalStorage, object_key
from tests.chat.helpers import read_events
from tests.conftest import SignedIn, serve_app
from tests.storage.helpers import EICAR, upload
from workflows import BACKGROUND

pytestmark = pytest.mark.usefixtures("clamd")
MB = 1024 * 1024


@pytest_asyncio.fixture
async def small_clamd(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    """A clamd of its own whose StreamMaxLength is 1 MB (settings pointing at it, 1 MB limit)."""
    socket = tmp_path_factory.mktemp("clamd") / "clamd.sock"
    own = settings.model_copy(update={"clamd_socket": str(socket), "clamd_max_bytes": MB})
    process = await start_clamd(own, TEST_SIGNATURES)
    try:
        yield own
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def stream_of(size: int, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b"a" * min(chunk, size - start)


async def stream_of_bytes(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def test_clamds_own_limit_is_a_refusal_not_an_outage(small_clamd: Settings) -> None:
    """The old client lost clamd's answer in the broken pipe and called clamd unavailable."""
    mismatched = ClamdScanner(small_clamd.model_copy(update={"clamd_max_bytes": 25 * MB}))
    with pytest.raises(ScanLimitExceeded, match="size limit exceeded"):
        await mismatched.scan(stream_of(3 * MB))
    with pytest.raises(ScanLimitExceeded, match="more than"):  # ours: refused before it is sent
        await ClamdScanner(small_clamd).scan(stream_of(2 * MB))
    assert (await mismatched.scan(stream_of(MB // 2))).clean
    found = await mismatched.scan(stream_of_bytes(EICAR))
    assert not found.clean and (found.signature or "").startswith("Pulse.Test.EICAR")


@pytest.mark.parametrize(("worker_limit_mb", "who"), [(25, "clamd"), (1, "worker")])
async def test_a_file_over_the_scanners_limit_is_rejected_as_too_large_to_scan(
    settings: Settings,
    small_clamd: Settings,
    sign_in: Callable[..., Awaitable[SignedIn]],
    client: Client,
    worker_limit_mb: int,
    who: str,
) -> None:
    """A 3 MB upload (the API allows 20 MB for chat) reaches a worker whose clamd takes 1 MB:
    refused by clamd mid-stream (the worker's limit says 25 MB) or by the worker's own check
    (its limit says 1 MB). Either way the file is rejected ``too_large_to_scan`` at once, in
    the person's language, the object deleted, the job failed with one ``error`` event."""
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"lim{uuid.uuid4().hex[:6]}-"})
    scanning = own.model_copy(
        update={"clamd_socket": small_clamd.clamd_socket, "clamd_max_bytes": worker_limit_mb * MB}
    )
    deps = worker_module.build_deps(scanning)
    me = await sign_in(locale="ar")
    try:
        async with (
            worker_module.build_workers(client, deps, [BACKGROUND])[0],
            serve_app(own, run_worker=False) as url,
        ):
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {me.token}"}, timeout=60
            ) as api:
                body = "سطر من ملاحظات طويلة\n".encode() * (3 * MB // 36)
                waiting = await upload(api, "ملاحظات.txt", body, "text/plain", wait=False)
                stream = await asyncio.wait_for(read_events(api, f"/v1/jobs/{waiting.file_id}/events"), 60)
                final = (await api.get(f"/v1/files/{waiting.file_id}")).json()
                job = (await api.get(f"/v1/jobs/{waiting.file_id}")).json()
    finally:
        await deps.aclose()
    assert [e.type for e in stream.events if e.type in ("done", "error")] == ["error"], who
    assert stream.last.data["code"] == "too_large_to_scan", (who, stream.last.data)
    assert final["status"] == "rejected" and final["reason"]["code"] == "too_large_to_scan"
    assert "الفيروسات" in final["reason"]["message"], final["reason"]
    assert job["status"] == "failed" and job["outputs"] == []
    store = LocalStorage(settings.storage_dir, settings.secret_key.get_secret_value())
    key = object_key(me.user_id, "file", waiting.file_id, "ملاحظات.txt")
    assert not await store.exists(QUARANTINE, key) and not await store.exists(ASSETS, key)
