"""Async fixtures of the heroes_sa plugin, on pytest-asyncio.

Registered by :func:`heroes_sa.testing.hooks.pytest_configure` only when
pytest-asyncio is active, so a sync-only test suite never imports it (nor
aiosqlite, which is loaded when the first async engine is made).

They mirror the sync fixtures: one migrated engine per revision and test
session, and a session per test joined to an outer transaction with
``join_transaction_mode="create_savepoint"``, so nothing a test writes
outlives it.  The ``heroes_revision`` marker and fixture are shared.

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

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from heroes_sa.aio import create_async_engine, upgrade_async

AsyncEngineFactory = Callable[[str], Awaitable[AsyncEngine]]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def heroes_async_engine_factory() -> AsyncIterator[AsyncEngineFactory]:
    """Return migrated async engines by revision, each built once per test session.

    ``await factory(revision)`` gives an aiosqlite engine on an in-memory
    database that Alembic migrated to ``revision`` the first time a test
    asked for it; all are disposed when the session ends.  Override this
    fixture to hand out engines for another database.
    """
    engines: dict[str, AsyncEngine] = {}

    async def engine_at(revision: str) -> AsyncEngine:
        if revision not in engines:
            engine = create_async_engine("sqlite://")
            await upgrade_async(engine, revision)
            engines[revision] = engine
        return engines[revision]

    yield engine_at
    for engine in engines.values():
        await engine.dispose()


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
async def heroes_async_session(heroes_async_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """An AsyncSession for one test; nothing it writes outlives the test.

    The sync fixture's recipe ("Joining a Session into an External
    Transaction") on an AsyncConnection: the session's commits and rollbacks
    act on savepoints inside an outer transaction rolled back at the end.
    """
    async with heroes_async_engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()
