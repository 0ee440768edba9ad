"""Every committed workflow history replays against today's code (see helpers.py), and every
workflow type the worker registers has at least one history."""

from __future__ import annotations

from pathlib import Path

import pytest

import worker as worker_module
from tests.replay.helpers import committed, load, replay, workflow_type

HISTORY_FILES = committed()


@pytest.mark.parametrize("path", HISTORY_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORY_FILES])
async def test_history_replays(path: Path) -> None:
    history = load(path)
    [result] = await replay([history])
    assert result.replay_failure is None


def test_every_workflow_type_has_a_recorded_history() -> None:
    recorded = {workflow_type(load(path)) for path in HISTORY_FILES}
    registered = {
        getattr(cls, "__temporal_workflow_definition").name for cls in worker_module.workflow_classes()
    }
    missing = sorted(registered - recorded)
    assert not missing, (
        f"no replay history for {missing}: run the tests that start them with "
        "PULSE_RECORD_HISTORIES=1 and commit tests/replay/histories/ (see tests/replay/helpers.py)"
    )
