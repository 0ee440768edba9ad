"""An image job on Replicate cancelled while the prediction's create is in flight: once the
create returns, the prediction is cancelled and the hold released (tests/workflows/submit_cancel.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.client import Client

from core import images
from core.db import Database
from tests.conftest import EmulatorControl
from tests.images.helpers import images_left, outcome, set_images, start
from tests.workflows.submit_cancel import (
    cancel_came_during_submit,
    create_in_flight,
    prediction_status,
    slow_creates,
)

HISTORIES = Path(__file__).parent / "histories"


async def test_cancel_while_the_create_is_in_flight_cancels_the_prediction_it_started(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Client
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 3)
    await emulator.fault("replicate", "slow", delay_s=60)
    await slow_creates(emulator)
    job_id = await start(me.client, model="black-forest-labs/flux-schnell", n=2)
    await create_in_flight(emulator, "replicate")
    assert (await me.client.post(f"/v1/jobs/{job_id}/cancel")).status_code == 202
    done = await outcome(me.client, job_id, timeout=60)
    assert (done["status"], done["error"]["code"]) == ("cancelled", "cancelled")
    calls = (await emulator.calls())["replicate"]
    assert (calls["requests"], calls["cancels"]) == (1, 1), calls
    async with db.session() as session:
        prediction_id = await images.prediction_for_job(session, job_id)
    assert prediction_id is not None, "the prediction the create started is known"
    assert await prediction_status(emulator, prediction_id) == "canceled"
    assert await images_left(db, me.user_id) == 3
    await cancel_came_during_submit(client, f"image-{job_id}", "images.submit", HISTORIES)
