"""``pulse admin set-plan EMAIL PLAN``."""

from __future__ import annotations

import asyncio
import uuid

from typer.testing import CliRunner

from cli import app
from core import ledger
from core.db import Database
from core.plans import Unit
from core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.ledger.conftest import create_user


async def test_set_plan_from_the_command_line(db: Database, settings: Settings) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    user_id = await create_user(db, email=email)
    env = {"PULSE_DATABASE_URL": settings.database_url, "PULSE_ENV": "test", "PULSE_SECRET_KEY": TEST_SECRET}
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, ["admin", "set-plan", email.upper(), "starter"], env=env
    )
    assert result.exit_code == 0, result.output
    assert f"{email} is on starter" in result.output
    async with db.session() as session:
        assert await ledger.available(session, user_id, Unit.tokens) == 300_000
    unknown = await asyncio.to_thread(runner.invoke, app, ["admin", "set-plan", email, "gold"], env=env)
    assert unknown.exit_code == 2
    nobody = await asyncio.to_thread(
        runner.invoke, app, ["admin", "set-plan", "x@nowhere.test", "pro"], env=env
    )
    assert nobody.exit_code == 1
