"""Replay tests: recorded workflow histories replayed against today's workflow code.

A change that makes a workflow take a different path through recorded events (a new
activity before an old one, a removed timer, ``datetime.now()`` instead of ``workflow.now()``)
breaks every execution that is running when it is deployed. Temporal's ``Replayer`` re-runs a
history against the code and fails with a non-determinism error when they disagree. The chat
workflow runs unsandboxed for speed, so this is its only guard.

How to use it (for a new workflow type too):

1. **Record** histories from real runs on the test dev server. Run the tests that exercise the
   workflow with ``PULSE_RECORD_HISTORIES=1``, e.g.::

       PULSE_RECORD_HISTORIES=1 uv run --frozen --no-sync pytest tests/payments -q

   At the end of the session, ``tests/conftest.py`` calls :func:`record_session`: for every
   closed workflow of the session, one history per distinct shape (its set of event types:
   happy path, retries, timers, signals, updates, cancel, continue-as-new …), at most
   ``PER_TYPE`` per type, is written to ``tests/replay/histories/<Type>/<name>.json``.
   Commit the files. Or record one handle in a test: ``await save(await record(handle), path)``.
2. **Replay**: ``tests/replay/test_replay.py`` replays every committed file with
   :func:`replay` (a few ms each) and checks that every type ``worker.workflow_classes()``
   registers has at least one history.

When a change is *meant* to alter a workflow's commands, guard it with ``workflow.patched()``
(old histories take the old path) and record new histories next to the old ones; delete old
files only once no execution of that shape can still be running.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer, WorkflowReplayResult

import worker as worker_module
from workflows.converter import pulse_data_converter

HISTORIES = Path(__file__).resolve().parent / "histories"
PER_TYPE = 6  # distinct shapes kept per workflow type per recording session
CLOSED = {
    WorkflowExecutionStatus.COMPLETED,
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.CONTINUED_AS_NEW,
    WorkflowExecutionStatus.TIMED_OUT,
}


async def record(handle: WorkflowHandle) -> WorkflowHistory:  # type: ignore[type-arg]
    """The full history of one execution (running or closed) from the server."""
    return await handle.fetch_history()


def save(history: WorkflowHistory, path: Path) -> Path:
    """Write a history as Temporal's JSON (the format ``tctl``/the UI export)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(history.to_json() + "\n", encoding="utf-8")
    return path


def load(path: Path) -> WorkflowHistory:
    """A committed history; its workflow id is taken from the file name."""
    return WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))


def workflow_type(history: WorkflowHistory) -> str:
    started = history.events[0].workflow_execution_started_event_attributes
    return str(started.workflow_type.name)


def shape(history: WorkflowHistory) -> str:
    """What distinguishes one scenario from another: the set of event types it went through."""
    kinds = sorted({event.event_type for event in history.events})
    return hashlib.sha1(repr(kinds).encode()).hexdigest()[:10]


async def replay(
    histories: Sequence[WorkflowHistory],
    *,
    workflows: Sequence[type] | None = None,
    data_converter: DataConverter = pulse_data_converter,
) -> list[WorkflowReplayResult]:
    """Replay each history against today's code (the worker's workflow classes by default,
    each with its own sandbox setting); raises on the first non-determinism."""
    replayer = Replayer(
        workflows=list(workflows or worker_module.workflow_classes()), data_converter=data_converter
    )
    results = []
    for history in histories:
        results.append(await replayer.replay_workflow(history))
    return results


async def record_session(client: Client, task_queue_prefix: str, into: Path = HISTORIES) -> list[Path]:
    """Save one history per distinct shape of every closed workflow this test session ran
    (its task queues start with ``task_queue_prefix``)."""
    written: list[Path] = []
    seen: dict[str, set[str]] = {}
    for existing in committed(into):
        seen.setdefault(existing.parent.name, set()).add(existing.stem.rsplit("-", 1)[-1])
    async for execution in client.list_workflows():
        if execution.status not in CLOSED or not execution.task_queue.startswith(task_queue_prefix):
            continue
        shapes = seen.setdefault(execution.workflow_type, set())
        if len(shapes) >= PER_TYPE:
            continue
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        key = shape(history)
        if key in shapes:
            continue
        shapes.add(key)
        written.append(
            save(history, into / execution.workflow_type / f"{_name(execution.workflow_type)}-{key}.json")
        )
    return written


def _name(workflow_type: str) -> str:
    return workflow_type.removesuffix("Workflow").lower()


def committed(into: Path = HISTORIES) -> list[Path]:
    """The recorded history files, ``<Type>/<name>-<shape>.json``."""
    return sorted(into.glob("*/*.json"))
