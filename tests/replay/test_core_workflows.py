"""Replay tests of the workflows that came before the job pipeline (and the account export and
erasure), one per workflow class: the
recorded histories of each type replayed with Temporal's ``Replayer`` against that class alone.
(The document and media kinds keep their own replay tests beside their other tests.)"""

from __future__ import annotations

import pytest
from temporalio.worker import Replayer

from tests.replay.helpers import HISTORIES, load
from workflows.chat_turn import ChatTurnWorkflow
from workflows.checkout import CheckoutWorkflow
from workflows.converter import pulse_data_converter
from workflows.data_export import AccountErasureWorkflow, DataExportWorkflow
from workflows.diagnostics import DiagnosticsWorkflow
from workflows.ledger_sweeper import LedgerSweeperWorkflow
from workflows.purge_auth import PurgeAuthWorkflow
from workflows.refund import RefundRetryWorkflow
from workflows.send_email import SendEmailWorkflow
from workflows.subscription import SubscriptionWorkflow

WORKFLOWS = [
    AccountErasureWorkflow,
    ChatTurnWorkflow,
    CheckoutWorkflow,
    DataExportWorkflow,
    DiagnosticsWorkflow,
    LedgerSweeperWorkflow,
    PurgeAuthWorkflow,
    RefundRetryWorkflow,
    SendEmailWorkflow,
    SubscriptionWorkflow,
]


def type_name(cls: type) -> str:
    return str(getattr(cls, "__temporal_workflow_definition").name)


@pytest.mark.parametrize("cls", WORKFLOWS, ids=type_name)
async def test_recorded_histories_replay(cls: type) -> None:
    paths = sorted((HISTORIES / type_name(cls)).glob("*.json"))
    assert paths, f"no recorded history for {type_name(cls)} (see tests/replay/helpers.py)"
    replayer = Replayer(workflows=[cls], data_converter=pulse_data_converter)
    for path in paths:
        result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
