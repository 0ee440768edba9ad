"""Replay: the committed CV workflow histories (a plain render, a render with a translation,
a quota refusal, an assist whose first reply broke the schema) replayed against today's code
with Temporal's ``Replayer``; a change that breaks running CV jobs fails here. Re-record with
``PULSE_RECORD_HISTORIES=1 uv run --frozen --no-sync pytest tests/cv/test_cv_jobs.py``."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.converter import pulse_data_converter
from workflows.cv import CvAssistWorkflow, CvRenderWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


async def test_recorded_cv_histories_replay() -> None:
    files = sorted(HISTORIES.glob("CvRenderWorkflow/*.json")) + sorted(
        HISTORIES.glob("CvAssistWorkflow/*.json")
    )
    assert {f.parent.name for f in files} == {"CvRenderWorkflow", "CvAssistWorkflow"}
    assert len(files) >= 4
    replayer = Replayer(workflows=[CvRenderWorkflow, CvAssistWorkflow], data_converter=pulse_data_converter)
    for path in files:
        history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, (path.name, result.replay_failure)
