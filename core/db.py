"""Async SQLAlchemy engine and sessions for PostgreSQL (asyncpg) and SQLite (aiosqlite).

The boundary (a request or an activity) owns the transaction: ``async with db.session() as s``
commits on success and rolls back on error. Services never commit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    echo: bool = False,
    command_timeout: float | None = None,
    connect_timeout: float | None = None,
) -> AsyncEngine:
    """``command_timeout`` (PostgreSQL): a statement that gets no answer for this long raises
    TimeoutError, and SQLAlchemy then drops that connection (an exit exception invalidates it);
    ``connect_timeout`` bounds opening a new one. Without them a black-holed database hangs
    every caller until TCP gives up (hours). None: asyncpg's defaults (no statement timeout,
    60 s to connect), for migrations and one-off commands."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, float] = {}
    if command_timeout is not None:
        connect_args["command_timeout"] = command_timeout
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """Owns one engine and its session factory."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        command_timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.url = url
        self.engine = create_engine(
            url, pool_size=pool_size, command_timeout=command_timeout, connect_timeout=connect_timeout
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.url)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads outside a transaction (autocommit): a single query costs one
        round trip instead of three (BEGIN, the query, ROLLBACK). Never for writes."""
        async with self.sessions(bind=self._autocommit) as session:
            yield session

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[AsyncSession]:
        """A session for a write that is a single statement (atomic by itself), outside a
        transaction: one round trip instead of three. Never for a second statement."""
        async with self.sessions(bind=self._autocommit) as session:
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
