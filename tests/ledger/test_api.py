"""Plans, usage and support APIs over real HTTP (signed in through the magic link)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import select

from core import ledger
from core.db import Database
from core.models import LedgerEntry, Role, User
from core.plans import Unit
from tests.conftest import SignedIn

SignIn = Callable[..., Awaitable[SignedIn]]


async def test_plans_catalog_is_public_and_bilingual(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/plans")
    assert response.status_code == 200
    body = response.json()
    plans = {plan["id"]: plan for plan in body["plans"]}
    assert list(plans) == ["free", "starter", "pro", "creator"]
    assert plans["pro"]["price_fils"] == 5000
    assert plans["pro"]["quotas"] == {"tokens": 1_000_000, "images": 60, "videos": 2}
    assert plans["free"]["quotas"] == {"tokens": 20_000, "images": 2, "videos": 0}
    assert plans["creator"]["name"] == {"ar": "المبدعين", "en": "Creator"}
    assert "JOD" in plans["starter"]["price"]["en"] and "3.000" in plans["starter"]["price"]["en"]
    assert "د.أ" in plans["starter"]["price"]["ar"]
    assert [a["id"] for a in body["addons"]] == ["tokens_200k", "images_10", "video_1"]
    assert all(a["price_fils"] == 1000 for a in body["addons"])
    one = await http.get("/v1/plans/creator")
    assert one.status_code == 200 and one.json()["price_fils"] == 7000 and len(one.json()["addons"]) == 3
    missing = await http.get("/v1/plans/platinum", headers={"accept-language": "ar"})
    assert missing.status_code == 404 and missing.json()["code"] == "plan_not_found"
    assert missing.json()["message"] == "هذه الباقة غير موجودة."


async def test_usage_me_check_and_history(sign_in: SignIn, db: Database, http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/usage/me")).status_code == 401
    me = await sign_in(locale="en")
    first = await me.client.get("/v1/usage/me")
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["plan_id"] == "free" and body["period_start"] and body["period_end"]
    assert body["units"]["tokens"] == {
        "granted": 20_000,
        "used": 0,
        "reserved": 0,
        "remaining": 20_000,
        "percent": 0,
        "warning": False,
        "exceeded": False,
    }
    async with db.session() as session:
        await ledger.reserve(session, user_id=me.user_id, unit="images", amount=2, key=f"api-{me.user_id}-1")
    async with db.session() as session:
        await ledger.settle(session, key=f"api-{me.user_id}-1", actual=2)
    after = (await me.client.get("/v1/usage/me")).json()["units"]["images"]
    assert after == {
        "granted": 2,
        "used": 2,
        "reserved": 0,
        "remaining": 0,
        "percent": 100,
        "warning": True,
        "exceeded": True,
    }
    allowed = (await me.client.post("/v1/usage/check", json={"unit": "tokens", "amount": 5000})).json()
    assert allowed["allowed"] is True and allowed["available"] == 20_000 and allowed["grantable"] == 5000
    shrunk = (
        await me.client.post("/v1/usage/check", json={"unit": "tokens", "amount": 30_000, "min_amount": 1000})
    ).json()
    assert shrunk["allowed"] is True and shrunk["reduced"] is True and shrunk["grantable"] == 20_000
    denied = await me.client.post("/v1/usage/check?lang=ar", json={"unit": "images", "amount": 1})
    assert denied.status_code == 200
    assert denied.json()["allowed"] is False and denied.json()["reason"] == "quota_exceeded"
    assert "المتاح 0" in denied.json()["message"]
    bad = await me.client.post("/v1/usage/check", json={"unit": "minutes", "amount": 1})
    assert bad.status_code == 422
    page = (await me.client.get("/v1/usage/history", params={"limit": 2})).json()
    assert [item["kind"] for item in page["items"]] == ["settle", "reserve"]
    assert page["next_before"] is not None
    rest = (await me.client.get("/v1/usage/history", params={"before": page["next_before"]})).json()
    assert sorted(item["kind"] for item in rest["items"]) == ["grant", "grant"]
    assert rest["next_before"] is None


async def test_support_changes_a_plan_with_audit(sign_in: SignIn, db: Database) -> None:
    customer = await sign_in(locale="en")
    staff = await sign_in(locale="en")
    body = {"plan_id": "creator", "reason": "ticket 42", "key": f"t42-{customer.user_id}"}
    refused = await customer.client.post(f"/v1/admin/users/{customer.user_id}/plan", json=body)
    assert refused.status_code == 403
    async with db.session() as session:
        user = await session.get(User, staff.user_id)
        assert user is not None
        user.role = Role.support.value
    for _ in range(2):  # the same key twice changes the plan once
        changed = await staff.client.post(f"/v1/admin/users/{customer.user_id}/plan", json=body)
        assert changed.status_code == 200, changed.text
        assert changed.json()["plan_id"] == "creator"
    usage = (await customer.client.get("/v1/usage/me")).json()
    assert usage["plan_id"] == "creator" and usage["units"]["videos"]["granted"] == 5
    async with db.session() as session:
        grants = (
            await session.execute(
                select(LedgerEntry).where(
                    LedgerEntry.user_id == customer.user_id, LedgerEntry.kind == "grant"
                )
            )
        ).scalars()
        audited = [(e.actor, e.reason) for e in grants if e.key.startswith("support:")]
    assert audited == [(staff.user_id, "ticket 42")] * 3
    history = (await customer.client.get("/v1/usage/history", params={"limit": 200})).json()["items"]
    support_rows = [item for item in history if item["key"].startswith("support:")]
    assert support_rows and {item["actor"] for item in support_rows} == {"support"}
    adjusted = await staff.client.post(
        f"/v1/admin/users/{customer.user_id}/adjust", json={"unit": "videos", "delta": -5, "reason": "abuse"}
    )
    assert adjusted.status_code == 200 and adjusted.json()["available"] == 0
    too_much = await staff.client.post(
        f"/v1/admin/users/{customer.user_id}/adjust",
        json={"unit": "videos", "delta": -1, "reason": "x"},
    )
    assert too_much.status_code == 409 and too_much.json()["code"] == "adjust_too_large"
    assert too_much.json()["message"] == "Only 0 can be taken away."  # the staff member's language
    unknown = await staff.client.post("/v1/admin/users/nobody/plan", json={"plan_id": "pro", "reason": "x"})
    assert unknown.status_code == 404
    async with db.session() as session:
        assert await ledger.available(session, customer.user_id, Unit.videos) == 0
