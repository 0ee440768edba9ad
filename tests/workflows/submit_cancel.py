"""A job cancelled while the provider's create request is still in flight (the emulator's
``create_ms``): the workflow holds no provider job id yet. Steps shared by the video and image
tests of the pipeline's submit/await helper (``workflows/pipeline.py``).

What must hold: the create that was in flight is not abandoned — once it returns, its job is
cancelled at the provider (one create, one cancel, the provider's job ends cancelled), the hold
is released, and the job ends ``cancelled``. The workflow's history proves that the cancel came
while the submit activity ran (its cancel was requested before it completed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from tests.conftest import EmulatorControl

CREATE_MS = 4000  # long enough for the cancel to land while the create is answered


async def create_in_flight(emulator: EmulatorControl, provider: str, timeout: float = 60) -> None:
    """Until the emulator has the create request (it answers ``CREATE_MS`` later)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await emulator.calls()).get(provider, {}).get("requests", 0) < 1:
        assert asyncio.get_running_loop().time() < deadline, "the create never reached the provider"
        await asyncio.sleep(0.02)


async def slow_creates(emulator: EmulatorControl) -> None:
    response = await emulator.http.post(f"{emulator.url}/_emulator/latency", json={"create_ms": CREATE_MS})
    response.raise_for_status()


async def cancel_came_during_submit(client: Client, workflow_id: str, submit: str, histories: Path) -> None:
    """The history: the submit activity's cancel was requested, and then it completed (kept in
    ``histories`` for the replay test with ``PULSE_RECORD_HISTORIES=1``)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled: int | None = None
    kinds: list[EventType.ValueType] = []
    for event in history.events:
        name = event.activity_task_scheduled_event_attributes.activity_type.name
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and name == submit:
            scheduled = event.event_id
        if scheduled is not None:
            kinds.append(event.event_type)
    assert scheduled is not None, f"{submit} never scheduled"
    requested = kinds.index(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED)
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in kinds[requested:], "the submit did not complete"
    if os.environ.get("PULSE_RECORD_HISTORIES") == "1":
        (histories / "cancelled_during_submit.json").write_text(history.to_json())


async def prediction_status(emulator: EmulatorControl, prediction_id: str) -> str:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(
            f"{emulator.url}/v1/predictions/{prediction_id}", headers={"Authorization": "Bearer test"}
        )
    response.raise_for_status()
    return str(response.json()["status"])
