"""Publish each Temporal task queue's backlog to CloudWatch (namespace ``Pulse/Temporal``).

The ECS service ``backlog-exporter`` runs this in the Pulse image; the worker services scale
on ``ApproximateBacklogCount`` per running task, and the observability module alarms on it.
Configured like every Pulse process (``PULSE_*``); CloudWatch is reached with the task role
(``AWS_ENDPOINT_URL_CLOUDWATCH`` points tests at moto). Queues are given unprefixed (the
settings' task-queue prefix is added), as in ``pulse worker -q``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.service import RPCError

from core.settings import Settings, load_settings
from workflows.client import connect_with_backoff

NAMESPACE = "Pulse/Temporal"
TYPES = (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
log = logging.getLogger("backlog_exporter")


@dataclass(frozen=True)
class Backlog:
    task_queue: str
    count: int  # workflow + activity tasks waiting for a worker
    age_seconds: float  # the oldest waiting task's age (either type)


async def describe(client: Client, request: DescribeTaskQueueRequest, attempts: int = 3) -> Any:
    """DescribeTaskQueue with stats; a busy server sometimes cancels it, so it is asked again."""
    for attempt in range(1, attempts + 1):
        try:
            return await client.workflow_service.describe_task_queue(
                request, retry=True, timeout=timedelta(seconds=20)
            )
        except RPCError:
            if attempt == attempts:
                raise
            await asyncio.sleep(attempt)
    raise AssertionError("unreachable")


async def measure(client: Client, settings: Settings, queue: str) -> Backlog:
    name = settings.task_queue(queue)
    count, age = 0, 0.0
    for kind in TYPES:
        request = DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace,
            task_queue=TaskQueue(name=name),
            task_queue_type=kind,
            report_stats=True,
        )
        response = await describe(client, request)
        count += response.stats.approximate_backlog_count
        age = max(age, response.stats.approximate_backlog_age.ToTimedelta().total_seconds())
    return Backlog(name, count, age)


def publish(cloudwatch: object, backlogs: Sequence[Backlog]) -> None:
    data = []
    for backlog in backlogs:
        dimensions = [{"Name": "TaskQueue", "Value": backlog.task_queue}]
        data.append({"MetricName": "ApproximateBacklogCount", "Dimensions": dimensions,
                     "Value": backlog.count, "Unit": "Count"})
        data.append({"MetricName": "ApproximateBacklogAge", "Dimensions": dimensions,
                     "Value": backlog.age_seconds, "Unit": "Seconds"})
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=data)  # type: ignore[attr-defined]


async def run(queues: Sequence[str], interval: float, once: bool) -> None:
    settings = load_settings()
    client = await connect_with_backoff(settings)
    cloudwatch = boto3.client("cloudwatch")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        try:
            backlogs = [await measure(client, settings, queue) for queue in queues]
            await asyncio.to_thread(publish, cloudwatch, backlogs)
            log.info("published %s", ", ".join(f"{b.task_queue}={b.count}" for b in backlogs))
        except Exception:  # a Temporal or CloudWatch hiccup must not stop the exporter
            log.exception("backlog export failed; retrying next interval")
        if once:
            return
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", action="append", required=True, help="task queue (repeat)")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between exports")
    parser.add_argument("--once", action="store_true", help="export once and exit")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(run(args.queue, args.interval, args.once))


if __name__ == "__main__":
    main()
