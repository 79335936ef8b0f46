"""Async fixtures of the heroes_sa plugin, on pytest-asyncio.

Registered by :func:`heroes_sa.testing.hooks.pytest_configure` only when
pytest-asyncio is active, so a sync-only test suite never imports it (nor
an async driver, which is loaded when the first async engine is made).

They mirror the sync fixtures, on the same backend: one migrated engine per
revision and test session (in-memory SQLite, or a namespace of its own on
the ``--heroes-db-url`` server, reached through asyncpg or aiomysql), and a
session per test joined to an outer transaction with
``join_transaction_mode="create_savepoint"``, so nothing a test writes
outlives it.  The ``heroes_revision`` marker and fixture are shared, and so
is ``heroes_restart_identities``.

All of them run in pytest-asyncio's session-scoped event loop, where the
engine and its connections live (asyncpg connections, unlike aiosqlite's,
cannot move between event loops).  Tests that use them against a
loop-bound driver must run in that loop too: set
``asyncio_default_test_loop_scope = "session"`` or mark them
``@pytest.mark.asyncio(loop_scope="session")``.  Each may be overridden in a
``conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
import pytest_asyncio
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from heroes_sa.aio import upgrade_async
from heroes_sa.testing.databases import (
    DatabaseUnavailableError,
    async_scratch_database,
    restart_identities,
)
from heroes_sa.testing.fixtures import RESTART_IDENTITIES

AsyncEngineFactory = Callable[[str], Awaitable[AsyncEngine]]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def heroes_async_engine_factory(
    heroes_db_url: URL | None,
) -> AsyncIterator[AsyncEngineFactory]:
    """Return migrated async engines by revision, each built once per test session.

    ``await factory(revision)`` gives an engine on a database of its own
    (see :func:`~heroes_sa.testing.databases.async_scratch_database`) that
    Alembic migrated to ``revision`` the first time a test asked for it:
    in-memory SQLite on aiosqlite, or a namespace on the ``heroes_db_url``
    server through its async driver (asyncpg, aiomysql).  All are disposed,
    and their namespaces dropped, when the session ends.  Override this
    fixture to hand out engines for another database.
    """
    async with AsyncExitStack() as databases:
        engines: dict[str, AsyncEngine] = {}

        async def engine_at(revision: str) -> AsyncEngine:
            if revision not in engines:
                try:
                    engine = await databases.enter_async_context(
                        # No ping per checkout, as for heroes_engine_factory.
                        async_scratch_database(heroes_db_url, pool_pre_ping=False)
                    )
                except (DatabaseUnavailableError, ModuleNotFoundError) as error:
                    pytest.fail(str(error), pytrace=False)
                await upgrade_async(engine, revision)
                engines[revision] = engine
            return engines[revision]

        yield engine_at


@pytest_asyncio.fixture(loop_scope="session")
async def heroes_async_engine(
    heroes_async_engine_factory: AsyncEngineFactory, heroes_revision: str
) -> AsyncEngine:
    """An async engine on a database migrated to this test's revision.

    Shared by every test at that revision: write to it through
    ``heroes_async_session``, which rolls back, not directly.
    """
    return await heroes_async_engine_factory(heroes_revision)


@pytest_asyncio.fixture(loop_scope="session")
async def heroes_async_session(
    heroes_async_engine: AsyncEngine, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncSession]:
    """An AsyncSession for one test; nothing it writes outlives the test.

    The sync fixture's recipe ("Joining a Session into an External
    Transaction") on an AsyncConnection: the session's commits and rollbacks
    act on savepoints inside an outer transaction rolled back at the end.
    Ids restart first when the test asks for ``heroes_restart_identities``.
    """
    async with heroes_async_engine.connect() as connection:
        if RESTART_IDENTITIES in request.fixturenames:
            await connection.run_sync(restart_identities)
        transaction = await connection.begin()
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
