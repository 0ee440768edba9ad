"""The image studio through its HTTP API, on the real worker stack and the emulator."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db import Database
from core.models import WebhookEvent
from emulator.replicate import sign
from tests.conftest import EmulatorControl
from tests.images.helpers import images_left, job_images, mask_png, outcome, set_images, size_of, start

CASES = [
    ("gpt-image-1", "1536x1024", "gpt-image-1"),
    ("gemini-2.5-flash-image", "1344x768", "gemini-2.5-flash-image"),
    ("black-forest-labs/flux-schnell", "1344x768", "black-forest-labs/flux-kontext-pro"),
]


async def download(url: str) -> bytes:
    async with httpx.AsyncClient() as anonymous:  # signed links need no session
        response = await anonymous.get(url)
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize(("model", "size", "editor"), CASES)
async def test_generate_then_edit_billed_by_what_was_made(
    sign_in: Any, db: Database, emulator: EmulatorControl, model: str, size: str, editor: str
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 10)
    job_id = await start(me.client, model=model, size=size, n=2)
    done = await outcome(me.client, job_id)
    assert done["status"] == "succeeded", done
    assert done["usage"]["images"] == 2 and len(done["outputs"]) == 2
    assert await images_left(db, me.user_id) == 8
    made = await job_images(me.client, job_id)
    width, height = (int(side) for side in size.split("x"))
    assert [(image["width"], image["height"]) for image in made] == [(width, height)] * 2
    assert size_of(await download(made[0]["url"])) == (width, height)
    assert max(size_of(await download(made[0]["thumb_url"]))) == 384

    edit: dict[str, Any] = {
        "model": editor,
        "prompt": "أضف قبعة",
        "source_image_id": made[0]["id"],
        "size": size,
    }
    if editor == "gpt-image-1":
        edit["mask_base64"] = mask_png(width, height)
    edit_id = await start(me.client, **edit)
    edited = await outcome(me.client, edit_id)
    assert edited["status"] == "succeeded", edited
    [result] = await job_images(me.client, edit_id)
    assert result["source_image_id"] == made[0]["id"]
    assert size_of(await download(result["url"])) == (width, height)
    assert await images_left(db, me.user_id) == 7


@pytest.mark.parametrize("prompt", ["emulator-refuse: a forbidden picture", "emulator-flag a violent scene"])
async def test_a_refusal_bills_nothing_and_says_why_in_arabic(
    sign_in: Any, db: Database, emulator: EmulatorControl, prompt: str
) -> None:
    me = await sign_in(locale="ar")
    await set_images(db, me.user_id, 3)
    job_id = await start(me.client, prompt=prompt, n=2)
    done = await outcome(me.client, job_id)
    assert (done["status"], done["error"]["code"]) == ("failed", "content_refused")
    assert "رُفض" in done["error"]["message"] and done["usage"]["images"] == 0
    assert await images_left(db, me.user_id) == 3 and await job_images(me.client, job_id) == []


async def test_replicate_with_the_webhook_lost_finishes_by_polling(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 5)
    await emulator.fault("replicate", "webhook_lost", delay_s=0)
    job_id = await start(me.client, model="black-forest-labs/flux-schnell", n=1)
    done = await outcome(me.client, job_id)
    assert done["status"] == "succeeded" and await images_left(db, me.user_id) == 4
    calls = (await emulator.calls())["replicate"]
    assert calls["requests"] == 1 and calls["webhooks"] == 0 and calls["polls"] >= 1


async def test_three_webhooks_and_a_forged_one_make_one_outcome(
    sign_in: Any, api_url: str, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 5)
    await emulator.fault("replicate", "webhook_duplicate", copies=3, delay_s=0)
    job_id = await start(me.client, model="black-forest-labs/flux-schnell", n=2)
    done = await outcome(me.client, job_id)
    assert done["status"] == "succeeded"
    calls = (await emulator.calls())["replicate"]
    assert calls["requests"] == 1 and calls["polls"] == 0, calls  # the webhook, not a poll, ended it
    for _ in range(100):
        async with db.session() as session:
            events = list(
                (
                    await session.execute(select(WebhookEvent).where(WebhookEvent.provider == "replicate"))
                ).scalars()
            )
        mine = [
            e
            for e in events
            if e.payload.get("id")
            and (e.payload.get("input") or {}).get("prompt") == "قطة في البتراء"
            and e.deliveries == 3
        ]
        if mine:
            break
        await asyncio.sleep(0.05)
    assert mine, "three deliveries recorded as one event"
    assert len(await job_images(me.client, job_id)) == 2 and await images_left(db, me.user_id) == 3

    body = json.dumps({**mine[0].payload, "status": "failed", "error": "forged"})
    stamp = str(int(time.time()))
    async with httpx.AsyncClient(base_url=api_url) as anonymous:
        forged = await anonymous.post(
            "/v1/webhooks/replicate",
            content=body,
            headers={
                "webhook-id": "msg_forged",
                "webhook-timestamp": stamp,
                "webhook-signature": "v1,Zm9yZ2Vk",
            },
        )
        stale_stamp = str(int(time.time()) - 3600)
        stale = await anonymous.post(
            "/v1/webhooks/replicate",
            content=body,
            headers={
                "webhook-id": "msg_stale",
                "webhook-timestamp": stale_stamp,
                "webhook-signature": sign("msg_stale", stale_stamp, body),
            },
        )
        odd_stamp = str(int(time.time()))
        malformed = await anonymous.post(
            "/v1/webhooks/replicate",
            content="[]",
            headers={
                "webhook-id": "msg_odd",
                "webhook-timestamp": odd_stamp,
                "webhook-signature": sign("msg_odd", odd_stamp, "[]"),
            },
        )
    assert forged.status_code == 401 and forged.json()["code"] == "webhook_signature_invalid"
    assert stale.status_code == 401
    assert malformed.status_code == 422 and malformed.json()["code"] == "webhook_malformed"
    assert (await outcome(me.client, job_id))["status"] == "succeeded"


async def test_cancel_mid_job_cancels_the_prediction_and_releases(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 4)
    await emulator.fault("replicate", "slow", delay_s=30)
    job_id = await start(me.client, model="black-forest-labs/flux-schnell", n=3)
    for _ in range(200):
        if (await emulator.calls()).get("replicate", {}).get("requests") == 1 and await images_left(
            db, me.user_id
        ) == 1:
            break
        await asyncio.sleep(0.05)
    cancel = await me.client.post(f"/v1/jobs/{job_id}/cancel")
    assert cancel.status_code == 202
    done = await outcome(me.client, job_id)
    assert (done["status"], done["error"]["code"]) == ("cancelled", "cancelled")
    assert await images_left(db, me.user_id) == 4
    assert (await emulator.calls())["replicate"]["cancels"] == 1


async def test_gallery_is_owner_scoped_paged_and_deletable(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me, stranger = await sign_in(), await sign_in()
    await set_images(db, me.user_id, 5)
    job_id = await start(me.client, n=3)
    assert (await outcome(me.client, job_id))["status"] == "succeeded"
    first = (await me.client.get("/v1/images", params={"limit": 2})).json()
    assert len(first["images"]) == 2 and first["next_before"]
    image_id = first["images"][0]["id"]
    for method in ("GET", "DELETE"):
        response = await stranger.client.request(method, f"/v1/images/{image_id}")
        assert response.status_code == 404 and response.json()["code"] == "image_not_found"
    assert (await stranger.client.get("/v1/images")).json()["images"] == []
    assert (await me.client.get(f"/v1/images/{image_id}")).json()["prompt"] == "قطة في البتراء"
    assert (await me.client.delete(f"/v1/images/{image_id}")).status_code == 204
    assert (await me.client.get(f"/v1/images/{image_id}")).status_code == 404
    assert len((await me.client.get("/v1/images")).json()["images"]) == 2


async def test_ten_concurrent_jobs_against_five_images_exactly_five_run(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in()
    await set_images(db, me.user_id, 5)
    jobs = await asyncio.gather(*(start(me.client, prompt=f"صورة {i}") for i in range(10)))
    results = await asyncio.gather(*(outcome(me.client, job_id) for job_id in jobs))
    statuses = sorted((r["status"], (r["error"] or {}).get("code")) for r in results)
    assert statuses == [("failed", "quota_exceeded")] * 5 + [("succeeded", None)] * 5
    assert await images_left(db, me.user_id) == 0
    assert (await emulator.calls())["openai"]["requests"] == 5


async def test_bad_requests_are_4xx_in_the_callers_language(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    me = await sign_in(locale="en")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"model": "dall-e-9"}, "model_unavailable"),
        ({"size": "7x7"}, "invalid_image_request"),
        ({"n": 9}, "invalid_image_request"),
        ({"model": "black-forest-labs/flux-kontext-pro"}, "invalid_image_request"),
        ({"image_base64": base64.b64encode(b"not an image").decode()}, "invalid_image_file"),
        ({"source_image_id": "0" * 32}, "image_not_found"),
        ({"prompt": ""}, "validation_error"),
    ]
    for extra, code in cases:
        body = {"model": "gpt-image-1", "prompt": "a cat", **extra}
        response = await me.client.post("/v1/images", json=body, headers={"Accept-Language": "ar"})
        assert 400 <= response.status_code < 500 and response.json()["code"] == code, (extra, response.text)
    arabic = await me.client.post(
        "/v1/images", json={"model": "gpt-image-1", "prompt": "x", "size": "7x7"}, params={"lang": "ar"}
    )
    assert "المقاس" in arabic.json()["message"]
    models = (await me.client.get("/v1/images/models", params={"lang": "en"})).json()["models"]
    assert {m["id"] for m in models} >= {
        "gpt-image-1",
        "gemini-2.5-flash-image",
        "black-forest-labs/flux-schnell",
    }
    assert all(m["cost"] == 1 and m["sizes"] for m in models)


@pytest.mark.usefixtures("clamd")
async def test_edit_an_uploaded_image_with_an_uploaded_mask(
    sign_in: Any, db: Database, emulator: EmulatorControl
) -> None:
    from tests.storage.helpers import png_bytes, upload

    me = await sign_in()
    await set_images(db, me.user_id, 2)
    photo = await upload(me.client, "صورتي.png", png_bytes(512, 512), "image/png", purpose="image_input")
    mask = await upload(
        me.client, "mask.png", base64.b64decode(mask_png(512, 512)), "image/png", purpose="image_input"
    )
    assert photo.file["status"] == "ready" and mask.file["status"] == "ready"
    body = {"input_file_ids": [photo.file_id], "mask_file_id": mask.file_id, "size": "1024x1024"}
    done = await outcome(me.client, await start(me.client, prompt="اجعل السماء زرقاء", **body))
    assert done["status"] == "succeeded", done
    [made] = await job_images(me.client, done["id"])
    assert size_of(await download(made["url"])) == (1024, 1024)
    stranger = await sign_in()
    refused = await stranger.client.post(
        "/v1/images", json={"prompt": "x", "model": "gpt-image-1", "input_file_ids": [photo.file_id]}
    )
    assert refused.status_code == 404 and refused.json()["code"] == "file_not_found"
