"""Replay: the committed slide-deck histories (an edited outline through to files, the outline
Update and its expiry timer, a cancel mid-content, one slide regenerated) replayed against
today's code with Temporal's ``Replayer``; a change that breaks running decks fails here.
Re-record with ``PULSE_RECORD_HISTORIES=1 uv run --frozen --no-sync pytest tests/slides``."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.converter import pulse_data_converter
from workflows.slides import SlideDeckWorkflow, SlideRegenerateWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


async def test_recorded_slide_histories_replay() -> None:
    files = sorted(HISTORIES.glob("SlideDeckWorkflow/*.json")) + sorted(
        HISTORIES.glob("SlideRegenerateWorkflow/*.json")
    )
    assert {f.parent.name for f in files} == {"SlideDeckWorkflow", "SlideRegenerateWorkflow"}
    assert len(files) >= 3
    replayer = Replayer(
        workflows=[SlideDeckWorkflow, SlideRegenerateWorkflow], data_converter=pulse_data_converter
    )
    for path in files:
        history = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, (path.name, result.replay_failure)
