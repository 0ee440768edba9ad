"""CV content is personal data: a render's workflow history carries ids, options and storage keys
only; search attributes and the summary carry no CV text; no log line names it; the notes an
assist job carries are encrypted by the payload codec when a key is configured."""

from __future__ import annotations

import base64
import re
from typing import Any

from pydantic import SecretStr
from structlog.testing import capture_logs

from tests.conftest import make_settings
from tests.cv.samples import arabic_cv
from tests.cv.test_cv_jobs import finished
from workflows.client import data_converter
from workflows.cv import CvAssistInput

NOTES = "قدت فريق الدفع في شركة سرّية"


def personal_texts(cv: dict[str, Any]) -> list[str]:
    basics = cv["basics"]
    work = cv["work"][0]
    return [basics["name"], basics["email"], basics["phone"], basics["summary"][:20], work["name"],
            work["highlights"][0][:20]]  # fmt: skip


def payload_bytes(history_json: str) -> bytes:
    """Every payload in a history, decoded (the JSON form base64-encodes them)."""
    return b"\n".join(base64.b64decode(d) for d in re.findall(r'"data":\s*"([A-Za-z0-9+/=]+)"', history_json))


async def test_no_cv_text_in_history_search_attributes_summary_or_logs(sign_in: Any, client: Any) -> None:
    me = await sign_in()
    data = arabic_cv()
    cv = (await me.client.post("/v1/cv", json=data)).json()
    with capture_logs() as logs:
        started = await me.client.post(f"/v1/cv/{cv['id']}/render", json={"template": "two_column"})
        stream, job = await finished(me.client, started.json())
        assist = await me.client.post(
            f"/v1/cv/{cv['id']}/assist", json={"action": "draft_bullets", "work_index": 0, "notes": NOTES}
        )
        _, assisted = await finished(me.client, assist.json())
    assert job["status"] == "succeeded", stream.events
    handle = client.get_workflow_handle(f"cv-{job['id']}")
    history = payload_bytes((await handle.fetch_history()).to_json())
    assert b"cv.pdf" in history  # the payloads were read: keys are there …
    description = await handle.describe()
    visible = str(description.typed_search_attributes) + str(await description.static_summary())
    logged = str(logs)
    assert len(logs) > 0
    for text in [*personal_texts(data), NOTES]:
        assert text.encode() not in history, text  # … and no CV text
        assert text not in visible and text not in logged, text
    # the check can see text: the assist job's notes travel in its input (no codec key here)
    assist_history = await client.get_workflow_handle(f"cv-assist-{assisted['id']}").fetch_history()
    assert NOTES.encode() in payload_bytes(assist_history.to_json())


async def test_assist_notes_are_encrypted_with_a_codec_key() -> None:
    converter = data_converter(make_settings(payload_codec_key=SecretStr("cd" * 32)))
    job = CvAssistInput("j", "u", "c", 1, "ar", "draft_bullets", "ar", "gpt-5-mini", 100, notes=NOTES)
    [payload] = await converter.encode([job])
    assert payload.metadata["encoding"] == b"binary/encrypted"
    assert NOTES.encode() not in payload.data
    assert await converter.decode([payload], [CvAssistInput]) == [job]
