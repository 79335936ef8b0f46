"""Helpers the async tests share: fresh databases per backend, statement capture.

SQLite always runs, on a private in-memory database.  PostgreSQL runs through
asyncpg when ``HEROES_TEST_DATABASE_URL`` names a PostgreSQL server: each
database is created with a random name on that server and dropped after.
"""

from __future__ import annotations

import gc
import os
import re
import secrets
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

import heroes_sa

#: Names the database server the suite may create databases on.
TEST_URL_ENV_VAR = "HEROES_TEST_DATABASE_URL"

BACKENDS = ["sqlite", "postgresql"]

#: One statement as the driver received it: SQL, parameters, executemany.
Sent = tuple[str, Any, bool]


def postgresql_server() -> URL:
    """The asyncpg URL of the test PostgreSQL server; skips the test when there is none."""
    raw = os.environ.get(TEST_URL_ENV_VAR)
    if not raw:
        pytest.skip(f"{TEST_URL_ENV_VAR} is not set: no PostgreSQL server to test asyncpg on")
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        pytest.skip(f"{TEST_URL_ENV_VAR} names {url.get_backend_name()}, not PostgreSQL")
    return url.set(drivername="postgresql+asyncpg")


@asynccontextmanager
async def _migrated(engine: AsyncEngine, revision: str | None) -> AsyncIterator[AsyncEngine]:
    """``engine`` migrated to ``revision`` (unless None), disposed at the end."""
    try:
        if revision is not None:
            await heroes_sa.upgrade_async(engine, revision)
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def fresh_async_engine(
    backend: str, revision: str | None = "head"
) -> AsyncIterator[AsyncEngine]:
    """An async engine on a new, empty database, migrated to ``revision`` unless None."""
    if backend == "sqlite":
        async with _migrated(heroes_sa.create_async_engine("sqlite://"), revision) as engine:
            yield engine
        return
    server = postgresql_server()
    name = f"heroes_async_test_{secrets.token_hex(6)}"
    admin = heroes_sa.create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    quoted = admin.dialect.identifier_preparer.quote_identifier(name)
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f"CREATE DATABASE {quoted}")
        try:
            engine = heroes_sa.create_async_engine(server.set(database=name))
            async with _migrated(engine, revision):
                yield engine
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f"DROP DATABASE {quoted} WITH (FORCE)")
    finally:
        await admin.dispose()


@contextmanager
def capture(engine: Engine) -> Iterator[list[Sent]]:
    """Every statement sent through ``engine`` (for async: ``engine.sync_engine``)."""
    sent: list[Sent] = []

    def record(
        _conn: Connection,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        sent.append((" ".join(statement.split()), parameters, executemany))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def selects(sent: list[Sent]) -> list[Sent]:
    """The SELECT statements among ``sent``."""
    return [s for s in sent if re.match(r"SELECT\b", s[0])]


def is_missing_greenlet(error: BaseException) -> bool:
    """True for SQLAlchemy's MissingGreenlet, raised as is or wrapped.

    asyncpg fails when the statement is executed and SQLAlchemy raises
    MissingGreenlet itself; aiosqlite fails earlier, when the cursor is
    made, and SQLAlchemy wraps it in a StatementError whose ``orig`` it is.
    """
    return isinstance(error, MissingGreenlet) or isinstance(
        getattr(error, "orig", None), MissingGreenlet
    )


@contextmanager
def driver_coroutine_left_unawaited() -> Iterator[None]:
    """Tolerate the one warning aiosqlite leaves behind a MissingGreenlet.

    When SQLAlchemy refuses to await aiosqlite's ``Connection.cursor()``, the
    coroutine it was handed is dropped unawaited and Python warns when it is
    collected.  That warning is the driver's, not heroes_sa's: it is ignored
    here, and only here, with the collection forced inside the block.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=re.escape("coroutine 'Connection.cursor' was never awaited"),
            category=RuntimeWarning,
        )
        yield
        gc.collect()
