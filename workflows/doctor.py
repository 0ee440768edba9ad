"""``pulse doctor``: run a DiagnosticsWorkflow and report each hop's latency from the history."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.diagnostics import DiagnosticsInput, DiagnosticsResult
from workflows import diagnostics_id
from workflows.diagnostics import DiagnosticsWorkflow

HOPS = (
    (
        "start → workflow task started",
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    ),
    (
        "workflow task → activity scheduled",
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    ),
    (
        "activity scheduled → completed",
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    ),
    (
        "activity completed → workflow completed",
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    ),
)


@dataclass
class DoctorReport:
    workflow_id: str
    result: DiagnosticsResult
    round_trip_ms: float
    hops: list[tuple[str, float]]

    def lines(self) -> list[str]:
        out = [f"workflow {self.workflow_id}: ok (round trip {self.round_trip_ms:.1f} ms)"]
        out += [f"  {name}: {ms:.1f} ms" for name, ms in self.hops]
        out.append(
            f"  database ({self.result.database}) write: {self.result.write_ms:.1f} ms, "
            f"read back: {self.result.read_ms:.1f} ms"
        )
        return out


async def run_diagnostics(client: Client, task_queue: str) -> DoctorReport:
    probe_id = uuid.uuid4().hex
    workflow_id = diagnostics_id(probe_id)
    begin = time.perf_counter()
    handle = await client.start_workflow(
        DiagnosticsWorkflow.run,
        DiagnosticsInput(probe_id=probe_id, workflow_id=workflow_id),
        id=workflow_id,
        task_queue=task_queue,
        static_summary="Pulse doctor: database round trip",
    )
    result = await handle.result()
    round_trip = (time.perf_counter() - begin) * 1000
    first_seen: dict[int, float] = {}
    async for event in handle.fetch_history_events():
        first_seen.setdefault(event.event_type, event.event_time.ToDatetime().timestamp())
    hops = [
        (name, (first_seen[end] - first_seen[start]) * 1000)
        for name, start, end in HOPS
        if start in first_seen and end in first_seen
    ]
    return DoctorReport(workflow_id=workflow_id, result=result, round_trip_ms=round_trip, hops=hops)
