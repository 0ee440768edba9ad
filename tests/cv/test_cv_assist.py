"""AI assist through HTTP for the summary (draft from notes, polish), tailoring to a pasted job
description and translating a whole CV: each is a suggestion in the CV's language, billed once,
that leaves the CV unchanged until the person saves what they accept."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from core.cv.schema import CvContent
from core.db import Database
from core.models import LedgerEntry
from tests.chat.test_turns import tokens_usage
from tests.conftest import EmulatorControl
from tests.cv.samples import arabic_cv
from tests.cv.test_cv_jobs import download, finished


def arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)


async def suggest(me: Any, cv_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    started = await me.client.post(f"/v1/cv/{cv_id}/assist", json=body)
    assert started.status_code == 202, started.text
    stream, job = await finished(me.client, started.json())
    assert stream.last.type == "done", stream.events
    assert job["kind"] == "cv_assist" and job["usage"]["tokens"] > 0
    return job, json.loads(await download(me.client, job, "suggestion.json"))


async def test_summary_tailor_and_translate_suggestions(sign_in: Any, db: Database) -> None:
    me = await sign_in()
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    before = await tokens_usage(db, me.user_id)
    billed = 0

    job, drafted = await suggest(me, cv["id"], {"action": "draft_summary", "notes": "خبرة في المدفوعات"})
    billed += job["usage"]["tokens"]
    assert drafted["field"] == "basics.summary" and arabic(drafted["text"])

    job, polished = await suggest(me, cv["id"], {"action": "polish_summary"})
    billed += job["usage"]["tokens"]
    assert polished["field"] == "basics.summary" and arabic(polished["text"])

    job, tailored = await suggest(
        me, cv["id"], {"action": "tailor", "job_description": "نبحث عن مهندس Python لفريق المدفوعات"}
    )
    billed += job["usage"]["tokens"]
    assert arabic(tailored["summary"]) and isinstance(tailored["skills"], list)
    assert all(0 <= role["index"] < 2 and role["bullets"] for role in tailored["roles"])

    job, translated = await suggest(me, cv["id"], {"action": "translate", "target_locale": "en"})
    billed += job["usage"]["tokens"]
    english = CvContent.model_validate(translated["content"])
    assert english.locale == "en" and english.basics.phone == "+962 7 9123 4567"
    # duplicate-as-English, as the page does it: the translation saved as a new CV
    copy = await me.client.post("/v1/cv", json=translated["content"])
    assert copy.status_code == 201 and copy.json()["locale"] == "en"

    after = await tokens_usage(db, me.user_id)
    assert after.used - before.used == billed and after.reserved == 0
    assert (await me.client.get(f"/v1/cv/{cv['id']}")).json()["version"] == 1  # nothing applied


async def test_a_failed_translation_releases_the_hold_and_renders_nothing(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    """A render in the other language whose model call is refused (400: not retried) fails the
    job with its error recorded, releases the reservation, bills nothing and stores no PDF."""
    me = await sign_in(locale="en")
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    before = await tokens_usage(db, me.user_id)
    await emulator.fault("openai", "http_400", count=1)
    started = await me.client.post(f"/v1/cv/{cv['id']}/render", json={"locale": "en"})
    stream, job = await finished(me.client, started.json())
    assert stream.last.type == "error" and job["status"] == "failed", stream.events
    assert job["error"]["code"] and job["error"]["message"]
    assert job["outputs"] == [] and job["usage"].get("tokens", 0) == 0
    after = await tokens_usage(db, me.user_id)
    assert after.used == before.used and after.reserved == 0
    async with db.session() as session:
        kinds = (
            (
                await session.execute(
                    select(LedgerEntry.kind).where(LedgerEntry.key == f"cv-{job['id']}:tokens")
                )
            )
            .scalars()
            .all()
        )
    assert sorted(kinds) == ["release", "reserve"]
