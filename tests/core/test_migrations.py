"""Migrations go up and down on both databases."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from sqlalchemy import inspect

from core.db import Database
from core.migrate import downgrade_async, upgrade_async
from tests.conftest import PG_ADMIN_DSN


async def table_names(url: str) -> set[str]:
    database = Database(url)
    async with database.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await database.dispose()
    return names - {"alembic_version"}


async def round_trip(url: str) -> None:
    await upgrade_async(url)
    assert {"users", "jobs"} <= await table_names(url)
    await downgrade_async(url, "base")
    assert await table_names(url) == set()
    await upgrade_async(url)
    assert {"users", "jobs"} <= await table_names(url)


async def test_sqlite_up_down_up(tmp_path: Path) -> None:
    await round_trip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


async def test_postgres_up_down_up(run_id: str) -> None:
    name = f"pulse_migrations_{run_id}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await round_trip(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_email_is_unique_case_insensitively(db: Database) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    from core.models import User

    async with db.session() as session:
        session.add(User(email="Case@Example.com"))
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            session.add(User(email="case@example.COM"))
