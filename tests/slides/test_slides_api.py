"""Slide decks through the HTTP API on the real worker stack (Temporal dev server, PostgreSQL,
storage, the emulator): an Arabic and an English deck from brief to files with the outline
edited in between (an over-long heading shortened by the model, not clipped), one slide
regenerated and billed alone, cancel mid-deck billing only what was used, an abandoned outline
timing out and releasing its reservation, owner checks."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import httpx
import pytest
from pptx import Presentation
from sqlalchemy import select

from core.db import Database
from core.models import LedgerEntry, LedgerReservation
from core.settings import Settings
from core.slides.fit import overflowing
from core.slides.layouts import boxes
from core.slides.model import SlideContent
from tests.chat.helpers import read_events
from tests.conftest import serve_app
from tests.cv.test_cv_jobs import record
from tests.slides.test_render import check_rtl_pptx

# 191 characters: within what the person may type (200), too long for a heading box even at its floor
LONG_HEADING = ("خطة شاملة ومفصلة لزيادة الإيرادات في جميع الأسواق الإقليمية عبر قنوات البيع الرقمية " * 3)[
    :196
].rsplit(" ", 1)[0]


async def wait_status(
    client: httpx.AsyncClient, deck_id: str, *wanted: str, timeout: float = 30
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        deck = (await client.get(f"/v1/slides/{deck_id}")).json()
        if deck["status"] in wanted:
            return deck
        assert asyncio.get_running_loop().time() < deadline, deck["status"]
        await asyncio.sleep(0.2)


async def reservation(db: Database, key: str) -> tuple[LedgerReservation, list[str]]:
    async with db.session() as session:
        row = (
            await session.execute(select(LedgerReservation).where(LedgerReservation.key == key))
        ).scalar_one()
        kinds = (
            (await session.execute(select(LedgerEntry.kind).where(LedgerEntry.key == key))).scalars().all()
        )
    return row, sorted(kinds)


async def start_deck(client: httpx.AsyncClient, **brief: Any) -> dict[str, Any]:
    started = await client.post("/v1/slides", json={"topic": "خطة المبيعات للربع الثالث", **brief})
    assert started.status_code == 202, started.text
    return started.json()


def edited(outline: dict[str, Any]) -> dict[str, Any]:
    """The person's edits: swap two slides, delete one, add one, rewrite a heading (too long)."""
    slides = [dict(s) for s in outline["slides"]]
    slides[1], slides[2] = slides[2], slides[1]
    del slides[3]
    slides.insert(3, {"heading": "جدول المقارنة", "key_message": "الأرقام جنباً إلى جنب", "layout": "table"})
    slides[1] = {**slides[1], "heading": LONG_HEADING, "layout": "bullets"}
    return {"title": outline["title"], "slides": slides}


async def download(client: httpx.AsyncClient, deck: dict[str, Any], name: str) -> bytes:
    url = next(f["url"] for f in deck["files"] if f["name"] == name)
    response = await client.get(url)
    assert response.status_code == 200, response.text
    return response.content


async def test_arabic_deck_outline_edited_then_files_then_one_slide_regenerated(
    sign_in: Any, db: Database, client: Any
) -> None:
    me, other = await sign_in(), await sign_in()
    started = await start_deck(me.client, slides=6, language="ar", digits="arabic")
    deck = await wait_status(me.client, started["deck_id"], "awaiting_outline")
    assert len(deck["outline"]["slides"]) == 6
    assert (
        deck["outline"]["slides"][0]["layout"] == "title"
        and deck["outline"]["slides"][-1]["layout"] == "closing"
    )
    # another person's deck is not found, whatever they try
    assert (await other.client.get(f"/v1/slides/{deck['id']}")).status_code == 404
    refused = await other.client.post(f"/v1/slides/{deck['id']}/outline", json=edited(deck["outline"]))
    assert refused.status_code == 404 and refused.json()["code"] == "slides_not_found"
    # an invalid outline is refused before it reaches the workflow
    bad = await me.client.post(f"/v1/slides/{deck['id']}/outline", json={"title": "x", "slides": []})
    assert bad.status_code == 422
    accepted = await me.client.post(f"/v1/slides/{deck['id']}/outline", json=edited(deck["outline"]))
    assert accepted.status_code == 200, accepted.text
    again = await me.client.post(f"/v1/slides/{deck['id']}/outline", json=edited(deck["outline"]))
    assert again.status_code == 409 and again.json()["code"] == "slides_outline_not_awaited"

    stream = await read_events(me.client, started["events_url"])
    assert stream.last.type == "done", stream.events
    steps = [e.data.get("step") for e in stream.of("step")]
    assert steps[:3] == ["started", "outline", "awaiting_outline"] and steps[-1] == "render", steps
    assert stream.last.data["shortened"] == [2] and stream.last.data["overflow"] == []
    deck = (await me.client.get(f"/v1/slides/{deck['id']}")).json()
    assert deck["status"] == "ready" and deck["version"] == 1
    names = {f["name"] for f in deck["files"]}
    assert {"deck.pptx", "deck.pdf", "deck.json"} <= names
    assert sum(n.startswith("slide-") for n in names) == 6

    pptx = await download(me.client, deck, "deck.pptx")
    check_rtl_pptx(pptx)
    slides = Presentation(io.BytesIO(pptx)).slides
    heading = next(s for s in slides[1].shapes if s.name == "heading").text_frame.text
    assert heading and heading != LONG_HEADING and len(heading) < 60  # shortened by the model
    assert next(s for s in slides[3].shapes if s.name == "table").has_table
    model = json.loads(await download(me.client, deck, "deck.json"))
    assert all(not overflowing(boxes(SlideContent.model_validate(s))) for s in model["slides"])
    assert (await download(me.client, deck, "deck.pdf")).startswith(b"%PDF")
    redirect = await me.client.get(f"/v1/slides/{deck['id']}/download/pptx")
    assert redirect.status_code == 307

    job = (await me.client.get(f"/v1/jobs/{started['job_id']}")).json()
    row, kinds = await reservation(db, f"slides-{started['job_id']}:tokens")
    assert (
        row.status == "settled"
        and row.charged == job["usage"]["tokens"] > 0
        and kinds == ["reserve", "settle"]
    )
    await record(client, f"slides-{started['job_id']}", "slidedeck-edited-outline")

    # one slide regenerated: a new version, its own job, billed alone
    regen = await me.client.post(f"/v1/slides/{deck['id']}/slides/3/regenerate")
    assert regen.status_code == 202, regen.text
    assert (await me.client.post(f"/v1/slides/{deck['id']}/slides/9/regenerate")).status_code == 422
    assert (await other.client.post(f"/v1/slides/{deck['id']}/slides/3/regenerate")).status_code == 404
    regen_stream = await read_events(me.client, regen.json()["events_url"])
    assert regen_stream.last.type == "done", regen_stream.events
    deck = (await me.client.get(f"/v1/slides/{deck['id']}")).json()
    assert deck["version"] == 2 and [v["version"] for v in deck["versions"]] == [1, 2]
    regen_job = (await me.client.get(f"/v1/jobs/{regen.json()['job_id']}")).json()
    row2, _ = await reservation(db, f"slides-regen-{regen.json()['job_id']}:tokens")
    assert row2.status == "settled" and 0 < row2.charged == regen_job["usage"]["tokens"] < row.charged
    await record(client, f"slides-regen-{regen.json()['job_id']}", "slideregen-one")


async def test_english_deck_is_left_to_right(sign_in: Any) -> None:
    me = await sign_in()
    started = await start_deck(me.client, topic="Quarterly sales plan", slides=3, language="en")
    deck = await wait_status(me.client, started["deck_id"], "awaiting_outline")
    outline = deck["outline"]
    outline["slides"][1]["heading"] = "Where we grow next"
    assert (await me.client.post(f"/v1/slides/{deck['id']}/outline", json=outline)).status_code == 200
    stream = await read_events(me.client, started["events_url"])
    assert stream.last.type == "done", stream.events
    deck = (await me.client.get(f"/v1/slides/{deck['id']}")).json()
    pptx = Presentation(io.BytesIO(await download(me.client, deck, "deck.pptx")))
    assert pptx.part._element.get("rtl") is None
    texts = [s.text_frame.text for s in pptx.slides[1].shapes if s.has_text_frame]
    assert "Where we grow next" in texts
    xml = pptx.slides[1].shapes[0].text_frame.paragraphs[0]._p
    assert xml.get_or_add_pPr().get("rtl") is None and xml.get_or_add_pPr().get("algn") == "l"


async def test_cancel_mid_deck_bills_only_what_was_used(sign_in: Any, db: Database) -> None:
    me = await sign_in()
    started = await start_deck(me.client, slides=10)
    deck = await wait_status(me.client, started["deck_id"], "awaiting_outline")
    assert (await me.client.post(f"/v1/slides/{deck['id']}/outline", json=deck["outline"])).status_code == 200
    assert (await me.client.post(f"/v1/jobs/{started['job_id']}/cancel")).status_code in (200, 202)
    stream = await read_events(me.client, started["events_url"])
    assert stream.last.type == "error" and stream.last.data["code"] == "cancelled", stream.events
    row, kinds = await reservation(db, f"slides-{started['job_id']}:tokens")
    assert (
        row.status == "settled" and 0 < row.charged < row.amount
    )  # the outline (+ any slides), not the deck
    assert kinds == ["reserve", "settle"]
    assert (await wait_status(me.client, deck["id"], "cancelled"))["status"] == "cancelled"


@pytest.mark.slow
async def test_abandoned_outline_times_out_and_releases(
    sign_in: Any, db: Database, settings: Settings, worker: Any, client: Any
) -> None:
    me = await sign_in()
    async with serve_app(
        settings.model_copy(update={"slides_outline_timeout_seconds": 5}), run_worker=False
    ) as url:
        async with httpx.AsyncClient(base_url=url, headers=me.client.headers, timeout=30) as short:
            started = await start_deck(short, slides=4)
            stream = await read_events(short, started["events_url"])
    assert stream.last.type == "error" and stream.last.data["code"] == "outline_expired", stream.events
    row, kinds = await reservation(db, f"slides-{started['job_id']}:tokens")
    assert row.status == "settled" and 0 < row.charged < row.amount  # only the outline; the rest released
    assert (await me.client.get(f"/v1/slides/{started['deck_id']}")).json()["status"] == "expired"
    await record(client, f"slides-{started['job_id']}", "slidedeck-outline-expired")
