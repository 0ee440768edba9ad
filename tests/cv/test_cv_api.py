"""The CV API through HTTP: create, read, save versions, owner checks, import/export, 4xx codes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.cv.samples import arabic_cv

SignIn = Callable[..., Awaitable[Any]]


async def test_create_read_update_versions_delete(sign_in: SignIn) -> None:
    me = await sign_in()
    created = await me.client.post("/v1/cv", json=arabic_cv())
    assert created.status_code == 201, created.text
    cv = created.json()
    assert cv["version"] == 1 and cv["locale"] == "ar" and cv["title"] == "ليلى أحمد الخطيب"
    assert cv["content"]["layout"]["order"][0] == "summary"

    listed = (await me.client.get("/v1/cv")).json()
    assert [item["id"] for item in listed] == [cv["id"]]

    changed = cv["content"] | {"basics": cv["content"]["basics"] | {"label": "مهندسة بيانات"}}
    saved = await me.client.put(f"/v1/cv/{cv['id']}", json=changed, headers={"If-Match": '"1"'})
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    stale = await me.client.put(f"/v1/cv/{cv['id']}", json=changed, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["code"] == "cv_version_conflict"

    first = (await me.client.get(f"/v1/cv/{cv['id']}", params={"version": 1})).json()
    assert first["content"]["basics"]["label"] == "مهندسة برمجيات"
    versions = (await me.client.get(f"/v1/cv/{cv['id']}/versions")).json()
    assert [v["version"] for v in versions] == [2, 1]

    assert (await me.client.delete(f"/v1/cv/{cv['id']}")).status_code == 204
    gone = await me.client.get(f"/v1/cv/{cv['id']}")
    assert gone.status_code == 404 and gone.json()["code"] == "cv_not_found"


async def test_another_users_cv_is_not_found(sign_in: SignIn) -> None:
    owner, other = await sign_in(), await sign_in(locale="en")
    cv = (await owner.client.post("/v1/cv", json=arabic_cv())).json()
    for method in ("GET", "PUT", "DELETE"):
        body = arabic_cv() if method == "PUT" else None
        response = await other.client.request(method, f"/v1/cv/{cv['id']}", json=body)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["code"] == "cv_not_found"
    assert (await other.client.get("/v1/cv")).json() == []
    assert (await owner.client.get(f"/v1/cv/{cv['id']}")).status_code == 200


async def test_bad_input_answers_422_in_the_callers_language(sign_in: SignIn) -> None:
    me = await sign_in()
    bad = arabic_cv()
    bad["work"][0]["startDate"] = "January 2021"
    bad["basics"]["email"] = "not an email"
    response = await me.client.post("/v1/cv", json=bad)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {f["field"] for f in body["fields"]} == {"work.0.startDate", "basics.email"}
    assert "الحقول" in body["message"] or "حقول" in body["message"]
    assert (await me.client.get("/v1/cv")).json() == []  # nothing half-written
    wrong_lang = await me.client.post("/v1/cv", json=arabic_cv() | {"locale": "fr"})
    assert wrong_lang.status_code == 422


async def test_json_resume_round_trip(sign_in: SignIn) -> None:
    me = await sign_in(locale="en")
    cv = (await me.client.post("/v1/cv", json=arabic_cv())).json()
    exported = (await me.client.get(f"/v1/cv/{cv['id']}/export")).json()
    assert exported["basics"]["email"] == "layla@example.com"
    assert exported["work"][0]["name"] == "Acme Corp"
    assert exported["meta"]["pulse"]["locale"] == "ar"
    assert "layout" not in exported and "locale" not in exported  # standard keys only at the top
    imported = await me.client.post("/v1/cv/import", json=exported)
    assert imported.status_code == 201, imported.text
    assert imported.json()["content"] == cv["content"]

    plain = {
        "basics": {"name": "Sam Lee", "email": "sam@example.com"},
        "languages": [{"language": "English", "fluency": "Native speaker"}],
        "interests": [{"name": "chess"}],
    }
    other = await me.client.post("/v1/cv/import", json=plain, params={"locale": "en"})
    assert other.status_code == 201, other.text
    assert other.json()["content"]["locale"] == "en"
    assert other.json()["content"]["languages"][0]["fluency"] is None
    broken = await me.client.post("/v1/cv/import", json={"basics": {"email": "nope"}})
    assert broken.status_code == 422 and broken.json()["code"] == "cv_invalid"
