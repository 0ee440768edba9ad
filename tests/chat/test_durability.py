"""Crash and scale-out: real processes sharing PostgreSQL, Redis and Temporal."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

import worker as worker_module
from core.db import Database
from core.settings import Settings
from tests.chat.helpers import Event, read_events
from tests.chat.test_turns import tokens_usage
from tests.conftest import EmulatorControl, free_port, serve_app
from tests.processes import kill_hard, pulse_process, settings_env, wait_ready
from workflows import INTERACTIVE

pytestmark = pytest.mark.slow


async def bearer_client(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


@pytest.mark.chaos
async def test_worker_killed_mid_stream_turn_completes_billed_once(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"chaos{uuid.uuid4().hex[:6]}-"})
    env = settings_env(own)
    me = await sign_in()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.1, model="gpt-5-mini")
    async with serve_app(own, run_worker=False) as url:
        client = await bearer_client(url, me.token)
        with pulse_process(["worker", "-q", "interactive"], env, tmp_path / "w1.log") as first:
            response = await client.post(
                "/v1/chat/turns", json={"model": "gpt-5-mini", "message": "اكتب قصة"}
            )
            turn = response.json()
            seen: list[Event] = []
            killed = asyncio.Event()

            async def on_event(event: Event) -> None:
                seen.append(event)
                if event.type == "delta" and not killed.is_set() and len(seen) >= 3:
                    kill_hard(first)
                    killed.set()

            partial = await read_events(client, turn["events_url"], on_event=on_event, stop_after=3)
        assert killed.is_set()
        metrics_port, sdk_metrics_port = free_port(), free_port()
        second_env = settings_env(
            own,
            worker_metrics_bind=f"127.0.0.1:{metrics_port}",
            temporal_metrics_bind=f"127.0.0.1:{sdk_metrics_port}",
        )
        with pulse_process(["worker", "-q", "interactive"], second_env, tmp_path / "w2.log"):
            stream = await read_events(client, turn["events_url"], last_event_id=partial.last.id)
            counted = 'pulse_chat_turns_total{model="gpt-5-mini",outcome="succeeded",provider="openai"} 1.0'
            async with httpx.AsyncClient() as scraper:  # the worker that finished the turn counts it
                for _ in range(50):  # just after it publishes `done`
                    ours = (await scraper.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
                    if counted in ours:
                        break
                    await asyncio.sleep(0.1)
                sdk = (await scraper.get(f"http://127.0.0.1:{sdk_metrics_port}/metrics")).text
        await client.aclose()
    assert counted in ours
    assert "temporal_workflow_completed" in sdk or "temporal_workflow_task_execution_latency" in sdk
    assert stream.last.type == "done", stream.events
    assert stream.of("restart"), "the retried attempt tells clients to drop the partial text"
    billed = stream.of("usage")[0].data["studio_tokens"]
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == billed and tokens.reserved == 0


async def test_two_apis_two_workers_stream_through_another_api(
    settings: Settings, sign_in: Any, emulator: EmulatorControl, tmp_path: Path
) -> None:
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"scale{uuid.uuid4().hex[:6]}-"})
    me = await sign_in()
    ports = [free_port(), free_port()]
    with (
        pulse_process(["api"], settings_env(own, http_port=ports[0]), tmp_path / "api1.log"),
        pulse_process(["api"], settings_env(own, http_port=ports[1]), tmp_path / "api2.log"),
        pulse_process(["worker"], settings_env(own), tmp_path / "worker1.log"),
        pulse_process(["worker"], settings_env(own), tmp_path / "worker2.log"),
    ):
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        await asyncio.gather(*(wait_ready(url) for url in urls))
        first, second = await bearer_client(urls[0], me.token), await bearer_client(urls[1], me.token)
        turn = (
            await first.post("/v1/chat/turns", json={"model": "claude-sonnet-4-6", "message": "مرحبا"})
        ).json()
        stream = await read_events(second, turn["events_url"])
        await first.aclose()
        await second.aclose()
    assert stream.last.type == "done" and stream.text


async def wait_for_events(client: Client, workflow_id: str, wanted: set[int], timeout: float = 20) -> None:
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(int(timeout / 0.1)):
        seen = {event.event_type for event in (await handle.fetch_history()).events}
        if wanted <= seen:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{workflow_id} never recorded {wanted}")


async def test_stop_whose_result_and_cancel_reach_the_workflow_together_is_still_billed(
    settings: Settings, sign_in: Any, db: Database, emulator: EmulatorControl, client: Client
) -> None:
    """The stream activity stops on the bus and completes while the workflow's cancel is
    pending, so both reach the workflow in one task. The SDK then raises the cancel and drops
    the activity's result; the partial reply must still be billed (this was a flaky CI failure).
    The workflow worker is held down meanwhile so the two land together every time."""
    own = settings.model_copy(update={"temporal_task_queue_prefix": f"stop{uuid.uuid4().hex[:6]}-"})
    queue = own.task_queue(INTERACTIVE)
    deps = worker_module.build_deps(own)
    activities = worker_module.activity_functions(deps)

    def workflow_worker() -> Worker:  # no cache: every task is a fresh one from the normal queue
        return Worker(
            client,
            task_queue=queue,
            workflows=worker_module.workflow_classes(),
            activities=activities,
            no_remote_activities=True,
            max_cached_workflows=0,
        )

    activity_worker = Worker(client, task_queue=queue, activities=activities)
    me = await sign_in()
    await emulator.fault(provider="openai", kind="slow", count=1, delay_s=0.05, model="gpt-5-mini")
    async with serve_app(own, run_worker=False) as url:
        api = await bearer_client(url, me.token)
        async with activity_worker:
            async with workflow_worker():
                turn = (
                    await api.post(
                        "/v1/chat/turns",
                        json={"model": "gpt-5-mini", "message": "اكتب قصة", "max_tokens": 400},
                    )
                ).json()
                partial = await read_events(api, turn["events_url"], stop_after=3)
            workflow_id = f"chat-turn-{turn['turn_id']}"
            assert (await api.post(f"/v1/chat/turns/{turn['turn_id']}/cancel")).status_code == 202
            await wait_for_events(
                client,
                workflow_id,
                {
                    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
                },
            )
            async with workflow_worker():
                stream = await read_events(api, turn["events_url"], last_event_id=partial.last.id)
        conversation = (await api.get(f"/v1/chat/conversations/{turn['conversation_id']}")).json()
        await api.aclose()
    await deps.aclose()
    assert stream.last.type == "done" and stream.last.data["stopped"] is True
    billed = stream.last.data["usage"]["studio_tokens"]
    assert billed > 0
    tokens = await tokens_usage(db, me.user_id)
    assert tokens.used == billed and tokens.reserved == 0
    reply = conversation["messages"][1]
    assert reply["status"] == "stopped" and reply["studio_tokens"] == billed and reply["content"]
    assert (partial.text + stream.text).startswith(reply["content"][:5])
