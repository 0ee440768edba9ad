"""0002_accounts goes up and down on SQLite (PostgreSQL: the session database is migrated to head,
and tests/core/test_migrations.py runs the whole chain up and down there)."""

from __future__ import annotations

from pathlib import Path

from core.migrate import downgrade_async, upgrade_async
from tests.core.test_migrations import table_names

ACCOUNT_TABLES = {"sessions", "magic_link_tokens", "api_keys", "email_deliveries"}


async def test_accounts_migration_up_and_down(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
    await upgrade_async(url, "0002")
    assert ACCOUNT_TABLES <= await table_names(url)
    await downgrade_async(url, "0001")
    assert not ACCOUNT_TABLES & await table_names(url)
    assert {"users", "jobs"} <= await table_names(url)


async def test_session_database_has_the_accounts_tables(pg_url: str) -> None:
    assert ACCOUNT_TABLES <= await table_names(pg_url)
