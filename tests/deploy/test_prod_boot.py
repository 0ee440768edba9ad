"""The production start path without containers, as the image's entry points run it:
PULSE_ENV=prod with real-looking secrets, a fresh PostgreSQL database, Redis, the Temporal dev
server; `pulse migrate`, then `pulse api` and `pulse worker` as separate processes, each
configured only by environment variables. Email goes through SES (moto's server), the providers
are the emulator at explicit base URLs. The workers join a Worker Deployment Version that is
made current with the Temporal CLI, as deploy.yml does; /readyz must be green and one chat turn
must stream through the processes, pinned to that version. One round of the backlog exporter
(infra/docker/backlog_exporter.py) publishes the queues' backlog to CloudWatch (moto).

S3: `storage_env` is the one env block for the storage branch's settings; it only passes the
ones core/settings.py knows, so it switches itself on when storage lands (buckets are created
in moto here already)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType

import asyncpg
import boto3
import httpx
import pytest
import pytest_asyncio
from moto.server import ThreadedMotoServer
from temporalio.client import Client
from temporalio.common import VersioningBehavior

from core.chat import chat_turn_workflow_id
from core.settings import Settings
from tests.chat.helpers import Stream, read_events
from tests.conftest import PG_ADMIN_DSN, free_port, make_settings
from tests.processes import ROOT, pulse_process, wait_ready
from workflows.client import binary

pytestmark = pytest.mark.slow
REGION = "eu-central-1"
SENDER = "no-reply@studio.example.jo"
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest_asyncio.fixture
async def prod_database(run_id: str) -> AsyncIterator[str]:
    """An empty database: `pulse migrate` creates the schema."""
    name = f"pulse_prod_boot_{run_id}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def storage_env(moto_url: str, suffix: str) -> dict[str, str]:
    """S3 through moto (the storage branch's settings; only those Settings knows are passed)."""
    block = {
        "PULSE_STORAGE_BACKEND": "s3",
        "PULSE_S3_ENDPOINT_URL": moto_url,
        "PULSE_S3_REGION": REGION,
        "PULSE_S3_BUCKET_ASSETS": f"pulse-assets-{suffix}",
        "PULSE_S3_BUCKET_QUARANTINE": f"pulse-quarantine-{suffix}",
    }
    known = {f"PULSE_{name.upper()}" for name in Settings.model_fields}
    return {key: value for key, value in block.items() if key in known}


def prod_env(
    database_url: str, temporal_address: str, emulator_url: str, moto_url: str, run: str, var_dir: Path
) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "AWS_"))}
    return {
        **inherited,
        **AWS_ENV,
        "PYTHONUNBUFFERED": "1",
        "PULSE_ENV": "prod",
        "PULSE_VAR_DIR": str(var_dir),
        "PULSE_SECRET_KEY": secrets.token_urlsafe(48),
        "PULSE_PAYLOAD_CODEC_KEY": secrets.token_hex(32),
        "PULSE_METRICS_TOKEN": secrets.token_urlsafe(32),
        "PULSE_DATABASE_URL": database_url,
        "PULSE_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PULSE_REDIS_PREFIX": f"pulse-boot-{run}:",
        "PULSE_TEMPORAL_ADDRESS": temporal_address,
        "PULSE_TEMPORAL_TASK_QUEUE_PREFIX": f"boot{run}-",
        "PULSE_WORKER_DEPLOYMENT_NAME": f"pulse-boot-{run}",
        "PULSE_WORKER_BUILD_ID": f"{run}0c0ffee",
        "PULSE_OPENAI_API_KEY": "sk-proj-" + secrets.token_urlsafe(36),
        "PULSE_OPENAI_BASE_URL": f"{emulator_url}/v1",
        "PULSE_ANTHROPIC_API_KEY": "sk-ant-api03-" + secrets.token_urlsafe(36),
        "PULSE_ANTHROPIC_BASE_URL": emulator_url,
        "PULSE_GOOGLE_API_KEY": "AIza" + secrets.token_urlsafe(26),
        "PULSE_GOOGLE_BASE_URL": emulator_url,
        "PULSE_HYPERPAY_BASE_URL": f"{emulator_url}/hyperpay",
        "PULSE_HYPERPAY_ACCESS_TOKEN": "OGFjN2E0Y2" + secrets.token_urlsafe(30),
        "PULSE_HYPERPAY_WEBHOOK_SECRET": secrets.token_hex(32),
        "PULSE_HYPERPAY_ENTITY_ID": "8ac9a4ca" + secrets.token_hex(12),
        "PULSE_HYPERPAY_ENTITY_ID_MADA": "8ac9a4cb" + secrets.token_hex(12),
        "PULSE_EMAIL_BACKEND": "ses",
        "PULSE_EMAIL_FROM": f"Pulse AI Studio <{SENDER}>",
        "PULSE_SES_REGION": REGION,
        "PULSE_SES_ENDPOINT_URL": moto_url,
        "PULSE_LEDGER_SWEEPER_SCHEDULE": "false",
        "PULSE_AUTH_PURGE_SCHEDULE": "false",
        **storage_env(moto_url, run),
    }


def prepare_aws(moto_url: str, env: dict[str, str]) -> None:
    session = boto3.Session(
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    session.client("sesv2", endpoint_url=moto_url).create_email_identity(EmailIdentity=SENDER)
    s3 = session.client("s3", endpoint_url=moto_url)
    for key in ("PULSE_S3_BUCKET_ASSETS", "PULSE_S3_BUCKET_QUARANTINE"):
        if key in env:
            s3.create_bucket(Bucket=env[key], CreateBucketConfiguration={"LocationConstraint": REGION})


async def emailed_token(address: str, timeout: float = 30) -> str:
    from moto.ses.models import ses_backends

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for message in ses_backends["123456789012"][REGION].sent_messages:
            if address in message.destinations.get("ToAddresses", []):
                found = re.search(r"/auth/verify\?token=([\w.\-]+)", message.body)
                assert found, message.body[:500]
                return found.group(1)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no SES message reached {address}")


async def make_version_current(temporal_address: str, env: dict[str, str], timeout: float = 60) -> None:
    """`temporal worker deployment set-current-version`, once the workers have registered it."""
    command = [
        binary("temporal"),
        "worker",
        "deployment",
        "set-current-version",
        "--address",
        temporal_address,
        "--deployment-name",
        env["PULSE_WORKER_DEPLOYMENT_NAME"],
        "--build-id",
        env["PULSE_WORKER_BUILD_ID"],
        "--yes",
    ]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=30)
        if done.returncode == 0:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"set-current-version failed: {done.stderr}")
        await asyncio.sleep(0.5)


def load_exporter() -> ModuleType:
    """infra/docker/backlog_exporter.py (the image runs it as a script; not a package)."""
    path = ROOT / "infra" / "docker" / "backlog_exporter.py"
    spec = importlib.util.spec_from_file_location("backlog_exporter", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["backlog_exporter"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


async def export_backlog(client: Client, env: dict[str, str], moto_url: str) -> None:
    """One round of the exporter (measure each queue on Temporal, publish to CloudWatch)."""
    exporter = load_exporter()
    settings = make_settings(temporal_task_queue_prefix=env["PULSE_TEMPORAL_TASK_QUEUE_PREFIX"])
    backlogs = [await exporter.measure(client, settings, q) for q in ("interactive", "streams", "background")]
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_url, region_name=REGION, **aws_keys())
    await asyncio.to_thread(exporter.publish, cloudwatch, backlogs)


async def test_prod_processes_boot_and_serve_a_chat_turn(
    prod_database: str,
    temporal_address: str,
    emulator_url: str,
    moto_url: str,
    client: Client,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex[:8]
    env = prod_env(prod_database, temporal_address, emulator_url, moto_url, run, tmp_path / "var")
    port = free_port()
    api_env = {**env, "PULSE_HTTP_PORT": str(port), "PULSE_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    # The worker may start while migrations run (it touches the database only for activities);
    # the API starts after them, as deploy.yml orders it.
    with pulse_process(["worker"], env, tmp_path / "worker.log"):
        migrate, _ = await asyncio.gather(
            asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "cli", "migrate"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            ),
            asyncio.to_thread(prepare_aws, moto_url, env),
        )
        assert migrate.returncode == 0, migrate.stderr
        with pulse_process(["api"], api_env, tmp_path / "api.log") as api:
            url = f"http://127.0.0.1:{port}"
            await wait_ready(url, timeout=90)
            await make_version_current(temporal_address, env)
            exporter = asyncio.create_task(export_backlog(client, env, moto_url))
            stream, turn_id = await chat_turn_as_a_new_user(url, run)
            await exporter
            assert api.poll() is None
    assert stream.last.type == "done", stream.events
    assert stream.text
    await assert_pinned(client, env, chat_turn_workflow_id(turn_id))
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_url, region_name=REGION, **aws_keys())
    metrics = cloudwatch.list_metrics(Namespace="Pulse/Temporal", MetricName="ApproximateBacklogCount")
    queues = {d["Value"] for m in metrics["Metrics"] for d in m["Dimensions"] if d["Name"] == "TaskQueue"}
    assert {f"boot{run}-interactive", f"boot{run}-streams", f"boot{run}-background"} <= queues


async def chat_turn_as_a_new_user(url: str, run: str) -> tuple[Stream, str]:
    """/readyz green, sign in through the emailed link (SES), one chat turn streamed to the end."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        ready = (await http.get("/readyz")).json()
        assert ready == {
            "status": "ok",
            "checks": {"database": "ok", "temporal": "ok", "redis": "ok"},
            "failing": [],
        }
        assert (await http.get("/metrics")).status_code == 401  # PULSE_METRICS_TOKEN guards it
        address = f"boot-{run}@example.jo"
        sent = await http.post("/v1/auth/magic-link", json={"email": address, "locale": "ar"})
        assert sent.status_code == 202, sent.text
        token = await emailed_token(address)
        verified = await http.post("/v1/auth/magic-link/verify", json={"token": token})
        assert verified.status_code == 200, verified.text
        http.headers["Authorization"] = f"Bearer {verified.json()['access_token']}"
        turn = await http.post("/v1/chat/turns", json={"model": "gpt-5-mini", "message": "مرحبا"})
        assert turn.status_code == 202, turn.text
        return await read_events(http, turn.json()["events_url"]), str(turn.json()["turn_id"])


def aws_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": AWS_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_ENV["AWS_SECRET_ACCESS_KEY"],
    }


async def assert_pinned(client: Client, env: dict[str, str], workflow_id: str) -> None:
    """The turn ran on the deployment version the deploy made current, pinned to it."""
    described = await client.get_workflow_handle(workflow_id).describe()
    info = described.raw_description.workflow_execution_info.versioning_info
    assert info.behavior == VersioningBehavior.PINNED.value
    assert info.deployment_version.build_id == env["PULSE_WORKER_BUILD_ID"]
    assert info.deployment_version.deployment_name == env["PULSE_WORKER_DEPLOYMENT_NAME"]
