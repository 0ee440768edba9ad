"""Pictures on image + text slides through the HTTP API: each one an image job of the image
studio's pipeline (its own reservation of ``images``, settled once), placed in the PPTX (a
picture shape with alt text, on the left in an Arabic deck) and in the PDF twin; kept — not made
or billed again — when the slide is regenerated; a deck whose images ran out still completes,
with the slides that got none listed."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pypdfium2
import pypdfium2.raw as pdfium_c
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from core.db import Database
from core.slides.layouts import IMAGE_PANEL, SLIDE_W
from tests.chat.helpers import read_events
from tests.cv.test_cv_jobs import record
from tests.images.helpers import images_left, set_images
from tests.slides.test_render import check_rtl_pptx
from tests.slides.test_slides_api import download, reservation, start_deck, wait_status

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def with_pictures(outline: dict[str, Any], *numbers: int) -> dict[str, Any]:
    slides = [dict(s) for s in outline["slides"]]
    for n in numbers:
        slides[n - 1]["layout"] = "image_text"
    return {"title": outline["title"], "slides": slides}


def pictures_per_page(pdf: bytes) -> list[int]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [len(list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))) for page in document]
    finally:
        document.close()


async def image_jobs(client: Any) -> list[dict[str, Any]]:
    return list((await client.get("/v1/jobs", params={"kind": "image"})).json())


async def made_deck(me: Any, images: int, *numbers: int) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    started = await start_deck(me.client, slides=5, language="ar", images=True)
    deck = await wait_status(me.client, started["deck_id"], "awaiting_outline", timeout=60)
    approved = await me.client.post(
        f"/v1/slides/{deck['id']}/outline", json=with_pictures(deck["outline"], *numbers)
    )
    assert approved.status_code == 200, approved.text
    stream = await read_events(me.client, started["events_url"])
    assert stream.last.type == "done", stream.events
    return started, stream, (await me.client.get(f"/v1/slides/{deck['id']}")).json()


async def test_pictures_are_image_jobs_billed_once_placed_in_both_files(
    sign_in: Any, db: Database, client: Any
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 5)
    started, stream, deck = await made_deck(me, 5, 2, 3)
    assert stream.last.data["images"] == 2 and stream.last.data["images_missing"] == []
    assert "images" in [e.data.get("step") for e in stream.of("step")]
    await record(client, f"slides-{started['job_id']}", "slidedeck-pictures")
    # two image jobs of the image pipeline, each reserved and settled once; 2 images spent
    jobs = await image_jobs(me.client)
    assert len(jobs) == 2 and all(j["status"] == "succeeded" for j in jobs), jobs
    for job in jobs:
        row, kinds = await reservation(db, f"image-{job['id']}:images")
        assert kinds == ["reserve", "settle"] and row.charged == 1
    assert await images_left(db, me.user_id) == 3
    deck_job = (await me.client.get(f"/v1/jobs/{started['job_id']}")).json()
    assert deck_job["usage"]["tokens"] > 0 and deck_job["usage"]["images"] == 0  # the deck: tokens only
    assert [v["image"] for v in deck["versions"][-1]["slides"]] == [False, True, True, False, False]

    pptx = await download(me.client, deck, "deck.pptx")
    check_rtl_pptx(pptx)
    slides = Presentation(io.BytesIO(pptx)).slides
    for n in (2, 3):
        [picture] = [s for s in slides[n - 1].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        x, _, w, _ = IMAGE_PANEL
        assert round(picture.left.pt) == round(SLIDE_W - x - w)  # mirrored: on the left, text on the right
        assert (
            picture._element.find(".//{*}cNvPr").get("descr")
            == deck["versions"][-1]["slides"][n - 1]["heading"]
        )
        body = next(s for s in slides[n - 1].shapes if s.name == "body")
        assert body.left.pt > picture.left.pt + picture.width.pt
    assert not any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slides[3].shapes)
    pdf = await download(me.client, deck, "deck.pdf")
    assert pictures_per_page(pdf) == [0, 1, 1, 0, 0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "slides-picture-ar.png").write_bytes(await download(me.client, deck, "slide-02.png"))

    # one slide regenerated: its picture stays, nothing more is spent on images
    regen = await me.client.post(f"/v1/slides/{deck['id']}/slides/2/regenerate")
    assert regen.status_code == 202, regen.text
    assert (await read_events(me.client, regen.json()["events_url"])).last.type == "done"
    deck = (await me.client.get(f"/v1/slides/{deck['id']}")).json()
    assert deck["version"] == 2 and deck["versions"][-1]["slides"][1]["image"] is True
    assert pictures_per_page(await download(me.client, deck, "deck.pdf")) == [0, 1, 1, 0, 0]
    assert len(await image_jobs(me.client)) == 2 and await images_left(db, me.user_id) == 3


async def test_a_deck_whose_images_run_out_still_completes(sign_in: Any, db: Database) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 1)
    _, stream, deck = await made_deck(me, 1, 2, 3)
    # the two pictures race for the one image left: one is made, the other slide keeps its panel
    [missing] = stream.last.data["images_missing"]
    assert stream.last.data["images"] == 1 and missing in (2, 3)
    assert await images_left(db, me.user_id) == 0
    jobs = {j["status"]: j for j in await image_jobs(me.client)}
    assert sorted(jobs) == ["failed", "succeeded"] and jobs["failed"]["error"]["code"] == "quota_exceeded"
    _, kinds = await reservation(db, f"image-{jobs['succeeded']['id']}:images")
    assert kinds == ["reserve", "settle"]
    expected = [0, 1, 1, 0, 0]
    expected[missing - 1] = 0
    assert pictures_per_page(await download(me.client, deck, "deck.pdf")) == expected
    assert [v["image"] for v in deck["versions"][-1]["slides"]] == [bool(n) for n in expected]


async def test_cancel_while_pictures_are_made_releases_them(
    sign_in: Any, db: Database, settings: Any, emulator: Any
) -> None:
    """Cancel the deck while its picture (a Replicate prediction, slowed down) is being made: the
    image job is cancelled with it and releases its images; the deck bills the tokens it used."""
    from tests.conftest import serve_app

    me = await sign_in()
    await set_images(db, me.user_id, 3)
    await emulator.fault("replicate", "slow", delay_s=20)
    flux = settings.model_copy(update={"slides_image_model": "black-forest-labs/flux-schnell"})
    async with serve_app(flux, run_worker=False) as url:
        import httpx

        async with httpx.AsyncClient(base_url=url, headers=me.client.headers, timeout=30) as client:
            started = await start_deck(client, slides=4, images=True)
            deck = await wait_status(client, started["deck_id"], "awaiting_outline", timeout=60)
            outline = with_pictures(deck["outline"], 2)
            assert (await client.post(f"/v1/slides/{deck['id']}/outline", json=outline)).status_code == 200

            async def on_event(event: Any) -> None:
                if event.type == "step" and event.data.get("step") == "images":
                    assert (await client.post(f"/v1/jobs/{started['job_id']}/cancel")).status_code in (
                        200,
                        202,
                    )

            stream = await read_events(client, started["events_url"], on_event=on_event)
    assert stream.last.type == "error" and stream.last.data["code"] == "cancelled", stream.events
    for _ in range(300):  # the image job hears the cancel on its own
        [job] = await image_jobs(me.client)
        if job["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert job["status"] == "cancelled", job
    row, kinds = await reservation(db, f"image-{job['id']}:images")
    assert kinds == ["release", "reserve"] and row.status == "released"
    assert await images_left(db, me.user_id) == 3
    deck_row, deck_kinds = await reservation(db, f"slides-{started['job_id']}:tokens")
    assert deck_kinds == ["reserve", "settle"] and 0 < deck_row.charged < deck_row.amount
    assert (await wait_status(me.client, deck["id"], "cancelled"))["status"] == "cancelled"
