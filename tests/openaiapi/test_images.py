"""``/openai/v1/images/generations`` and ``/images/edits`` through the official ``openai`` SDK
against the real app and worker: each call is the studio's ``ImageJobWorkflow``, billed once
from the plan's ``images`` quota; the key's model list, image budget (exact under concurrency,
kept across rotation) and rpm hold; errors are OpenAI-shaped."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from typing import Any

import httpx
import openai
import pytest
from PIL import Image
from sqlalchemy import select

from core.db import Database
from core.models import ApiImageCall, LedgerReservation
from tests.conftest import EmulatorControl
from tests.images.helpers import images_left, set_images, size_of
from tests.openaiapi.conftest import KeyUser, sdk_for

ARABIC = re.compile(r"[\u0600-\u06FF]")
PROMPT = "قطة تجلس على سور قلعة عمّان"


def png(width: int, height: int, colour: tuple[int, int, int, int] = (40, 120, 200, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def mask(width: int, height: int) -> bytes:
    """Opaque above, transparent (edit here) below."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, height // 2, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def decoded(item: Any) -> bytes:
    assert item.b64_json and item.url is None
    return base64.b64decode(item.b64_json)


async def charged_images(db: Database, user_id: str) -> list[tuple[str, int]]:
    """The user's image reservations: (status, charged) — one per job, never two."""
    async with db.reader() as session:
        rows = await session.execute(
            select(LedgerReservation.status, LedgerReservation.charged).where(
                LedgerReservation.user_id == user_id, LedgerReservation.unit == "images"
            )
        )
    return sorted((status, int(charged)) for status, charged in rows)


async def test_generate_b64_and_url_billed_once_from_the_plan(key_user: Any, db: Database) -> None:
    user: KeyUser = await key_user()
    await set_images(db, user.me.user_id, 5)
    made = await user.sdk.images.generate(
        model="gpt-image-1", prompt=PROMPT, n=2, size="1536x1024", user="end-user-7"
    )
    assert len(made.data) == 2 and made.size == "1536x1024" and made.output_format == "png"
    assert all(size_of(decoded(item)) == (1536, 1024) for item in made.data)
    assert made.usage and made.usage.model_extra == {"images": 2}  # what the ledger charged
    linked = await user.sdk.images.generate(
        model="gemini-2.5-flash-image", prompt=PROMPT, response_format="url", size="1344x768"
    )
    assert len(linked.data) == 1 and linked.data[0].url and linked.data[0].b64_json is None
    async with httpx.AsyncClient() as anyone:  # a signed link: no key needed, short-lived
        fetched = await anyone.get(linked.data[0].url)
    assert fetched.status_code == 200 and size_of(fetched.content) == (1344, 768)
    assert await images_left(db, user.me.user_id) == 2
    assert await charged_images(db, user.me.user_id) == [("settled", 1), ("settled", 2)]
    usage = await user.usage()
    assert usage["images_used"] == 3 and usage["images_held"] == 0 and usage["requests"] == 2
    by_model = {m["model"]: m["images"] for m in usage["models"]}
    assert by_model == {"gpt-image-1": 2, "gemini-2.5-flash-image": 1}
    async with db.reader() as session:
        asked_by = (await session.execute(select(ApiImageCall.end_user, ApiImageCall.api_key_id))).all()
    assert ("end-user-7", user.key_id) in [tuple(row) for row in asked_by]
    gallery = (await user.me.client.get("/v1/images")).json()["images"]
    assert len(gallery) == 3  # what a key made is in its owner's gallery too


async def test_replicate_generation_waits_for_the_prediction(key_user: Any, db: Database) -> None:
    user: KeyUser = await key_user()
    await set_images(db, user.me.user_id, 3)
    made = await user.sdk.images.generate(model="black-forest-labs/flux-schnell", prompt=PROMPT, n=2)
    assert len(made.data) == 2 and all(size_of(decoded(item)) == (1024, 1024) for item in made.data)
    assert await images_left(db, user.me.user_id) == 1


async def test_edit_an_uploaded_image_with_a_mask(
    key_user: Any, db: Database, emulator: EmulatorControl
) -> None:
    user: KeyUser = await key_user()
    await set_images(db, user.me.user_id, 4)
    base = png(1024, 1536)
    edited = await user.sdk.images.edit(
        model="gpt-image-1",
        image=("room.png", base, "image/png"),
        mask=("mask.png", mask(1024, 1536), "image/png"),
        prompt="أضف نافذة تطل على البحر الميت",
        size="1024x1536",
        quality="high",
    )
    assert len(edited.data) == 1 and edited.quality == "high"
    out = decoded(edited.data[0])
    assert size_of(out) == (1024, 1536) and out != base
    with Image.open(io.BytesIO(out)) as image:  # the emulator repaints only the mask's transparent half
        top, bottom = image.convert("RGBA").getpixel((10, 10)), image.convert("RGBA").getpixel((10, 1500))
    assert top == (40, 120, 200, 255) and bottom != top
    several = await user.sdk.images.edit(
        model="gemini-2.5-flash-image",
        image=[("a.png", png(512, 512), "image/png"), ("b.jpg", jpeg(300, 200), "image/jpeg")],
        prompt="اجمع الصورتين في ملصق",
        response_format="url",
    )
    assert several.data[0].url
    kontext = await user.sdk.images.edit(
        model="black-forest-labs/flux-kontext-pro", image=("c.png", png(640, 640), "image/png"), prompt="ليلاً"
    )
    assert len(kontext.data) == 1
    assert await images_left(db, user.me.user_id) == 1
    assert (await emulator.calls())["replicate"]["requests"] >= 1


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("call", "param", "code"),
    [
        ({"style": "vivid"}, "style", "unsupported_parameter"),
        ({"size": "640x480"}, "size", "invalid_value"),
        ({"n": 9}, "n", "invalid_value"),
        ({"model": "gemini-2.5-flash-image", "quality": "high"}, "quality", "invalid_value"),
        ({"response_format": "svg"}, "response_format", "invalid_value"),
        ({"model": "black-forest-labs/flux-kontext-pro"}, None, "invalid_value"),  # edit-only
    ],
)
async def test_bad_generation_requests_are_openai_shaped_400s(
    key_user: Any, db: Database, call: dict[str, Any], param: str | None, code: str
) -> None:
    user: KeyUser = await key_user(locale="en")
    with pytest.raises(openai.BadRequestError) as refused:
        await user.sdk.images.generate(**{"model": "gpt-image-1", "prompt": PROMPT, **call})
    error = refused.value
    assert error.code == code and error.param == param and error.type == "invalid_request_error"
    assert await charged_images(db, user.me.user_id) == []


async def test_bad_edits_and_models(key_user: Any, db: Database, api_url: str) -> None:
    user: KeyUser = await key_user(locale="en", allowed_models=["gpt-5-mini", "gemini-2.5-flash-image"])
    with pytest.raises(openai.BadRequestError) as not_an_image:
        await user.sdk.images.edit(
            model="gemini-2.5-flash-image", image=("x.png", b"not an image", "image/png"), prompt="x"
        )
    assert not_an_image.value.code == "invalid_value" and not_an_image.value.param == "image"
    with pytest.raises(openai.BadRequestError) as no_mask:
        await user.sdk.images.edit(
            model="gemini-2.5-flash-image",
            image=("x.png", png(64, 64), "image/png"),
            mask=("m.png", mask(64, 64), "image/png"),
            prompt="x",
        )
    assert no_mask.value.param == "mask"
    with pytest.raises(openai.PermissionDeniedError) as not_allowed:
        await user.sdk.images.generate(model="gpt-image-1", prompt=PROMPT)
    assert not_allowed.value.code == "model_not_allowed"
    with pytest.raises(openai.NotFoundError) as chat_model:
        await user.sdk.images.generate(model="gpt-5-mini", prompt=PROMPT)
    assert chat_model.value.code == "model_not_found"
    listed = sorted(m.id for m in (await user.sdk.models.list()).data)
    assert listed == ["gemini-2.5-flash-image", "gpt-5-mini"]
    async with httpx.AsyncClient(base_url=f"{api_url}/openai/v1") as raw:
        json_edit = await raw.post(
            "/images/edits", headers={"Authorization": f"Bearer {user.key}"}, json={"prompt": "x"}
        )
    assert json_edit.status_code == 400 and json_edit.json()["error"]["param"] in {"body", "image"}
    await user.me.client.delete(f"/v1/auth/api-keys/{user.key_id}")
    with pytest.raises(openai.AuthenticationError) as revoked:
        await user.sdk.images.generate(model="gemini-2.5-flash-image", prompt=PROMPT)
    assert revoked.value.code == "invalid_api_key"
    assert await charged_images(db, user.me.user_id) == []


async def test_plan_images_used_up_and_a_refusal_bill_nothing(key_user: Any, db: Database) -> None:
    arabic: KeyUser = await key_user(locale="ar")
    await set_images(db, arabic.me.user_id, 1)
    with pytest.raises(openai.RateLimitError) as short:
        await arabic.sdk.images.generate(model="gpt-image-1", prompt=PROMPT, n=2)
    error = short.value
    assert error.code == "insufficient_quota" and error.type == "insufficient_quota"
    assert error.response.headers["x-should-retry"] == "false"
    assert isinstance(error.body, dict) and ARABIC.search(error.body["message"])
    with pytest.raises(openai.BadRequestError) as refused:
        await arabic.sdk.images.generate(model="gpt-image-1", prompt="emulator-refuse " + PROMPT)
    assert refused.value.code == "content_policy_violation"
    assert isinstance(refused.value.body, dict) and ARABIC.search(refused.value.body["message"])
    assert await images_left(db, arabic.me.user_id) == 1
    assert await charged_images(db, arabic.me.user_id) == [("released", 0)]  # the refusal's hold


async def test_image_budget_exact_under_concurrency_and_kept_across_rotation(
    key_user: Any, db: Database, api_url: str
) -> None:
    user: KeyUser = await key_user(locale="en", monthly_image_budget=3)
    await set_images(db, user.me.user_id, 20)
    calls = [user.sdk.images.generate(model="gpt-image-1", prompt=f"{PROMPT} {i}") for i in range(5)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(done) == 3, results
    assert all(isinstance(r, openai.RateLimitError) and r.code == "budget_exceeded" for r in refused)
    usage = await user.usage()
    assert usage["images_used"] == 3 and usage["images_remaining"] == 0 and usage["monthly_image_budget"] == 3
    assert await images_left(db, user.me.user_id) == 17

    rotated = await user.me.client.post(f"/v1/auth/api-keys/{user.key_id}/rotate")
    assert rotated.status_code == 201 and rotated.json()["monthly_image_budget"] == 3
    new_sdk = sdk_for(api_url, rotated.json()["key"])
    try:
        with pytest.raises(openai.RateLimitError) as still:
            await new_sdk.images.generate(model="gpt-image-1", prompt=PROMPT)
        assert still.value.code == "budget_exceeded"
        raised = await user.me.client.patch(
            f"/v1/auth/api-keys/{rotated.json()['id']}", json={"monthly_image_budget": 4}
        )
        assert raised.status_code == 200, raised.text
        await new_sdk.images.generate(model="gpt-image-1", prompt=PROMPT)
        with pytest.raises(openai.RateLimitError):
            await new_sdk.images.generate(model="gpt-image-1", prompt=PROMPT)
    finally:
        await new_sdk.close()
    assert (await user.usage())["images_used"] == 4


async def test_rpm_limit_counts_image_calls(key_user: Any, db: Database) -> None:
    user: KeyUser = await key_user(rpm_limit=1)
    await set_images(db, user.me.user_id, 5)
    await user.sdk.images.generate(model="gemini-2.5-flash-image", prompt=PROMPT)
    with pytest.raises(openai.RateLimitError) as limited:
        await user.sdk.images.generate(model="gemini-2.5-flash-image", prompt=PROMPT)
    assert limited.value.code == "rate_limit_exceeded"
    assert int(limited.value.response.headers["retry-after"]) > 0
    assert await images_left(db, user.me.user_id) == 4


async def test_a_job_ended_by_an_outage_answers_503_with_retry_after(key_user: Any, db: Database) -> None:
    """A job the sweeper ended (``service_unavailable``) is our outage, never the provider's
    fault: 503 with ``Retry-After``, as every outage answers, not 502 ``provider_error``."""
    from api.openai.images import _job_error
    from api.openai.keys import Caller
    from core import jobs
    from core.models import ApiKey, JobStatus, User
    from workflows.pipeline import JobOutcome

    caller: KeyUser = await key_user()
    async with db.session() as session:
        user = await session.get(User, caller.me.user_id)
        key = await session.get(ApiKey, caller.key_id)
        assert user is not None and key is not None
        job = await jobs.ensure_job(
            session, job_id="0" * 26, user_id=user.id, kind="image", workflow_id="image-" + "0" * 26
        )
        await jobs.finish_job(session, job, JobStatus.failed, error_code="service_unavailable")
        error = await _job_error(session, Caller(user, key), job.id, JobOutcome("failed"))
    assert (error.status, error.code) == (503, "service_unavailable") and "Retry-After" in error.headers
