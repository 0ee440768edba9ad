"""Roles (CLI grant-role, SupportUser/AdminUser) and the dev mailbox pages."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import select
from temporalio.client import Client

from activities.accounts import PurgeAuthResult
from api.app import create_app
from api.auth.deps import AdminUser, OptionalUser, SupportUser
from core import accounts
from core.db import Database
from core.models import AuditLog, Role
from core.settings import ROOT, Settings
from tests.accounts.conftest import serve_asgi
from tests.conftest import SignedIn, request_link
from worker import WorkerDeps
from workflows.schedules import ensure_purge_auth_schedule, purge_auth_schedule_id

SignIn = Callable[..., Awaitable[SignedIn]]


async def pulse(settings: Settings, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update({"PULSE_ENV": "test", "PULSE_DATABASE_URL": settings.database_url, "PULSE_LOG_JSON": "false"})
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_grant_role_from_the_cli_and_role_dependencies(
    settings: Settings, worker: WorkerDeps, sign_in: SignIn
) -> None:
    app = create_app(settings)

    @app.get("/test/support")
    async def support_only(user: SupportUser) -> dict[str, str]:
        return {"role": user.role}

    @app.get("/test/admin")
    async def admin_only(user: AdminUser) -> dict[str, str]:
        return {"role": user.role}

    @app.get("/test/optional")
    async def optional(user: OptionalUser) -> dict[str, str | None]:
        return {"id": user.id if user else None}

    async with serve_asgi(app) as url:
        me = await sign_in()
        me.client.base_url = httpx.URL(url)
        assert (await me.client.get("/test/support")).status_code == 403
        assert (await me.client.get("/test/support")).json()["code"] == "forbidden"
        async with httpx.AsyncClient(base_url=url) as anonymous:
            assert (await anonymous.get("/test/optional")).json() == {"id": None}
            assert (await anonymous.get("/test/support")).status_code == 401
        assert (await me.client.get("/test/optional")).json() == {"id": me.user_id}

        code, output = await pulse(settings, "admin", "grant-role", me.email.upper(), "support")
        assert code == 0, output
        assert f"{me.email} is now support" in output
        assert (await me.client.get("/test/support")).json() == {"role": "support"}
        async with worker.db.session() as session:
            entries = await session.execute(select(AuditLog).where(AuditLog.target_id == me.user_id))
            (entry,) = entries.scalars().all()
        assert (entry.actor_id, entry.action) == ("cli", "role.granted")
        assert entry.details == {"previous": "user", "role": "support"}
        assert (await me.client.get("/test/admin")).status_code == 403

        async with worker.db.session() as session:
            await accounts.grant_role(session, me.email, Role.admin, actor="test")
        assert (await me.client.get("/test/admin")).json() == {"role": "admin"}
        assert (await me.client.get("/test/support")).status_code == 200

    code, output = await pulse(settings, "admin", "grant-role", "nobody@example.com", "admin")
    assert code == 1 and "no user" in output


async def test_mailbox_page_is_arabic_first_and_lists_links(http: httpx.AsyncClient) -> None:
    email = f"mailbox-{uuid.uuid4().hex[:8]}@example.com"
    link = await request_link(http, email, "ar")
    page = await http.get("/dev/mailbox", params={"to": email})
    assert page.status_code == 200
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "صندوق البريد التجريبي" in page.text
    assert link.replace("&", "&amp;") in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    english = await http.get("/dev/mailbox", params={"lang": "en", "to": email})
    assert '<html lang="en" dir="ltr">' in english.text and "Dev mailbox" in english.text
    entry = (await http.get("/dev/mailbox.json", params={"to": email})).json()[0]
    assert set(entry) >= {"id", "to", "subject", "text", "link", "locale", "sent_at"}
    preview = await http.get(f"/dev/mailbox/{entry['id']}.html")
    assert preview.status_code == 200 and '<html lang="ar" dir="rtl">' in preview.text
    assert "script-src" not in preview.headers["content-security-policy"]
    assert (await http.get("/dev/mailbox/nope.html")).status_code == 404


async def expire_long_ago(db: Database, user_id: str) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core.models import AuthSession, MagicLinkToken
    from core.models.base import utcnow

    long_ago = utcnow() - timedelta(days=8)
    async with db.session() as session:
        for model in (AuthSession, MagicLinkToken):
            await session.execute(update(model).where(model.user_id == user_id).values(expires_at=long_ago))


async def assert_purged(db: Database, gone: SignedIn, kept: SignedIn) -> None:
    from core.models import AuthSession, MagicLinkToken

    async with db.session() as session:
        for model in (AuthSession, MagicLinkToken):
            assert (await session.execute(select(model).where(model.user_id == gone.user_id))).first() is None
            assert (await session.execute(select(model).where(model.user_id == kept.user_id))).first()
    assert (await kept.client.get("/v1/auth/me")).status_code == 200


async def test_purge_auth_deletes_only_long_dead_rows(
    settings: Settings, db: Database, sign_in: SignIn
) -> None:
    old = await sign_in()
    live = await sign_in()
    await expire_long_ago(db, old.user_id)
    code, output = await pulse(settings, "admin", "purge-auth")
    assert code == 0, output
    assert "deleted" in output
    await assert_purged(db, old, live)


async def test_purge_auth_runs_daily_on_a_schedule(
    settings: Settings, db: Database, sign_in: SignIn, client: Client, worker: WorkerDeps
) -> None:
    old, live = await sign_in(), await sign_in()
    await expire_long_ago(db, old.user_id)
    assert await ensure_purge_auth_schedule(client, settings) == "created"
    assert await ensure_purge_auth_schedule(client, settings) == "updated"  # every worker start
    handle = client.get_schedule_handle(purge_auth_schedule_id(settings))
    try:
        spec = (await handle.describe()).schedule.spec
        assert spec.time_zone_name == "Asia/Amman"
        assert [(c.hour[0].start, c.minute[0].start) for c in spec.calendars] == [(3, 17)]
        await handle.trigger()
        for _ in range(100):
            described = await handle.describe()
            if described.info.recent_actions:
                break
            await asyncio.sleep(0.1)
        started = described.info.recent_actions[0].action
        workflow_id = started.workflow_id  # type: ignore[attr-defined]
        result = await client.get_workflow_handle(workflow_id, result_type=PurgeAuthResult).result()
        assert result.sessions >= 1 and result.magic_links >= 1
    finally:
        await handle.delete()
    await assert_purged(db, old, live)
