"""The CV photo through HTTP: uploaded through the files API (presigned form → scan), referenced
from the CV by file id, embedded in the photo template's PDF (read back with pypdf), never in the
ATS template; another user's file or a file for another purpose is refused."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from tests.cv.samples import arabic_cv
from tests.cv.test_cv_jobs import download, finished
from tests.storage.helpers import png_bytes, upload

pytestmark = pytest.mark.usefixtures("clamd")


def page_images(pdf: bytes) -> list[Image.Image]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return [image.image for image in page.images]


async def render(me: Any, cv_id: str, template: str, **options: Any) -> dict[str, Any]:
    started = await me.client.post(f"/v1/cv/{cv_id}/render", json={"template": template, **options})
    assert started.status_code == 202, started.text
    stream, job = await finished(me.client, started.json())
    assert job["status"] == "succeeded", (job, stream.events)
    return job


async def test_uploaded_photo_is_embedded_in_the_photo_template(sign_in: Any) -> None:
    me = await sign_in()
    body = png_bytes(120, 90, (10, 120, 200))
    photo = await upload(me.client, "me.png", body, "image/png", purpose="cv_photo")
    assert photo.file["status"] == "ready", photo.file
    cv = (await me.client.post("/v1/cv", json={**arabic_cv(), "photo_file_id": photo.file_id})).json()
    assert cv["content"]["photo_file_id"] == photo.file_id

    with_photo = await download(me.client, await render(me, cv["id"], "photo", tagged=True), "cv.pdf")
    assert "/StructTreeRoot" in PdfReader(io.BytesIO(with_photo)).trailer["/Root"]  # PDF/UA asked for
    images = page_images(with_photo)
    assert len(images) == 1, images
    assert images[0].size == (120, 90)
    assert images[0].convert("RGB").getpixel((60, 45)) == (10, 120, 200)

    without = await download(me.client, await render(me, cv["id"], "ats"), "cv.pdf")
    assert page_images(without) == []  # the ATS template shows no photo
    assert "/StructTreeRoot" not in PdfReader(io.BytesIO(without)).trailer["/Root"]

    exported = (await me.client.get(f"/v1/cv/{cv['id']}/export")).json()
    assert exported["meta"]["pulse"]["photo_file_id"] == photo.file_id


async def test_a_photo_must_be_the_owners_cv_photo_upload(sign_in: Any) -> None:
    owner, other = await sign_in(), await sign_in()
    theirs = await upload(other.client, "x.png", png_bytes(), "image/png", purpose="cv_photo")
    refused = await owner.client.post(
        "/v1/cv", json={**arabic_cv(), "photo_file_id": theirs.file_id}, headers={"Accept-Language": "ar"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "cv_photo_invalid", refused.text
    assert refused.json()["message"].startswith("يجب أن تكون الصورة")  # in the caller's language

    chat_file = await upload(owner.client, "c.png", png_bytes(), "image/png", purpose="chat")
    wrong = await owner.client.post("/v1/cv", json={**arabic_cv(), "photo_file_id": chat_file.file_id})
    assert wrong.status_code == 422 and wrong.json()["code"] == "cv_photo_invalid"

    mine = await upload(owner.client, "me.png", png_bytes(), "image/png", purpose="cv_photo")
    cv = (await owner.client.post("/v1/cv", json={**arabic_cv(), "photo_file_id": mine.file_id})).json()
    assert (await owner.client.delete(f"/v1/files/{mine.file_id}")).status_code == 204
    gone = await owner.client.post(f"/v1/cv/{cv['id']}/render", json={"template": "photo"})
    assert gone.status_code == 409 and gone.json()["code"] == "cv_photo_missing", gone.text
    assert (await owner.client.post(f"/v1/cv/{cv['id']}/render", json={"template": "ats"})).status_code == 202
