"""Storage fixtures: moto's S3 server (real wire protocol, presigned POST included)."""

from __future__ import annotations

import os
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
