"""The person's own words for one slide, re-exported as a new version through the HTTP API: no
model call and nothing billed; a text too long for its box keeps the smallest size and is listed
in ``overflow`` — kept verbatim, never cut or rewritten; edits a layout has no place for, empty
edits, someone else's deck and a slide that does not exist are refused."""

from __future__ import annotations

import io
from typing import Any

from pptx import Presentation
from sqlalchemy import select

from core.db import Database
from core.models import LedgerReservation
from tests.chat.helpers import read_events
from tests.conftest import EmulatorControl
from tests.cv.test_cv_jobs import record
from tests.slides.test_pictures import with_pictures
from tests.slides.test_render import check_rtl_pptx
from tests.slides.test_slides_api import download, start_deck, wait_status

MINE = ["نبدأ بالعملاء في إربد", "ثم نفتح متجر العقبة"]
TOO_LONG = [("سطر طويل جدا يشرح خطة التوسع في كل المحافظات بتفصيل كبير " * 5).strip()] * 8


async def made(me: Any) -> dict[str, Any]:
    started = await start_deck(me.client, slides=4)
    deck = await wait_status(me.client, started["deck_id"], "awaiting_outline", timeout=60)
    outline = with_pictures(deck["outline"])
    outline["slides"][1]["layout"] = "bullets"
    assert (await me.client.post(f"/v1/slides/{deck['id']}/outline", json=outline)).status_code == 200
    assert (await read_events(me.client, started["events_url"])).last.type == "done"
    return (await me.client.get(f"/v1/slides/{deck['id']}")).json()


async def edit(me: Any, deck_id: str, number: int, body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    response = await me.client.put(f"/v1/slides/{deck_id}/slides/{number}", json=body)
    assert response.status_code == 202, response.text
    stream = await read_events(me.client, response.json()["events_url"])
    assert stream.last.type == "done", stream.events
    return stream, (await me.client.get(f"/v1/jobs/{response.json()['job_id']}")).json()


async def test_own_words_reexported_as_a_new_version_free(
    sign_in: Any, db: Database, emulator: EmulatorControl, client: Any
) -> None:
    me = await sign_in()
    deck = await made(me)
    assert deck["version"] == 1 and len(deck["slides"]) == 4 and deck["slides"][1]["layout"] == "bullets"
    calls = (await emulator.calls())["openai"]["requests"]
    stream, job = await edit(me, deck["id"], 2, {"heading": "خطتنا للتوسع", "bullets": MINE})
    assert stream.last.data["overflow"] == [] and "edit" in [e.data.get("step") for e in stream.of("step")]
    assert (await emulator.calls())["openai"]["requests"] == calls  # no model was asked
    assert job["usage"]["tokens"] == 0
    await record(client, f"slides-edit-{job['id']}", "slideedit-own-words")
    async with db.session() as session:
        held = (
            await session.execute(select(LedgerReservation).where(LedgerReservation.job_id == job["id"]))
        ).all()
    assert held == []  # nothing reserved, nothing billed
    deck = (await me.client.get(f"/v1/slides/{deck['id']}")).json()
    assert deck["version"] == 2 and deck["slides"][1]["bullets"] == MINE
    assert deck["slides"][1]["heading"] == "خطتنا للتوسع"
    pptx = await download(me.client, deck, "deck.pptx")
    check_rtl_pptx(pptx)
    body = next(s for s in Presentation(io.BytesIO(pptx)).slides[1].shapes if s.name == "body")
    assert body.text_frame.text.split("\n") == MINE

    # too long for its box: the smallest size, listed, kept word for word
    stream, _ = await edit(me, deck["id"], 2, {"bullets": TOO_LONG})
    assert stream.last.data["overflow"] == [2]
    deck = (await me.client.get(f"/v1/slides/{deck['id']}")).json()
    assert deck["version"] == 3 and deck["slides"][1]["bullets"] == TOO_LONG
    assert deck["versions"][-1]["slides"][1]["overflow"] is True
    body = next(
        s
        for s in Presentation(io.BytesIO(await download(me.client, deck, "deck.pptx"))).slides[1].shapes
        if s.name == "body"
    )
    assert body.text_frame.text.split("\n") == TOO_LONG
    assert {r.font.size.pt for p in body.text_frame.paragraphs for r in p.runs} == {14.0}  # the floor


async def test_edits_that_cannot_apply_are_refused(sign_in: Any) -> None:
    me, other = await sign_in(), await sign_in()
    deck = await made(me)

    async def refused(number: int, body: dict[str, Any], who: Any = me) -> tuple[int, str]:
        response = await who.client.put(f"/v1/slides/{deck['id']}/slides/{number}", json=body)
        return response.status_code, response.json().get("code", "")

    assert await refused(2, {"quote": "اقتباس"}) == (422, "slides_edit_invalid")
    assert await refused(2, {}) == (422, "slides_edit_invalid")
    assert (await refused(2, {"bullets": ["x" * 301]}))[0] == 422
    assert await refused(9, {"heading": "عنوان"}) == (422, "slides_no_such_slide")
    assert await refused(2, {"heading": "عنوان"}, other) == (404, "slides_not_found")
    assert (await me.client.get(f"/v1/slides/{deck['id']}")).json()["version"] == 1
