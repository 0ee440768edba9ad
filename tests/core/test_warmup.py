"""The start-up rehearsal of a chat turn (core/warmup.py, docs/chat.md "Cold start") runs a real
turn's statements — sign-in, rows, quota check, reserve, reply, settle — and keeps nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from core.db import Database
from core.migrate import upgrade_async
from core.models.base import Base
from core.settings import Settings
from core.warmup import rehearse_turn


async def row_counts(db: Database) -> dict[str, int]:
    async with db.reader() as session:
        return {
            table.name: (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in Base.metadata.sorted_tables
        }


async def test_rehearsal_keeps_no_row(db: Database, settings: Settings) -> None:
    before = await row_counts(db)
    await rehearse_turn(db, settings)  # raises if any step of the turn fails
    assert await row_counts(db) == before


async def test_rehearsal_runs_on_sqlite(tmp_path: Path, settings: Settings) -> None:
    """`pulse dev`'s database: the same rehearsal, nothing kept either."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'warm.db'}"
    await upgrade_async(url)
    lite = Database(url)
    try:
        before = await row_counts(lite)  # what the migrations seed (the plans catalog, …)
        await rehearse_turn(lite, settings)
        assert await row_counts(lite) == before
    finally:
        await lite.dispose()
