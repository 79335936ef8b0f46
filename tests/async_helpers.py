"""Helpers the async tests share: fresh databases on the backends under test.

Every async test runs on SQLite (aiosqlite, a private in-memory database)
and, when the run is given a server (``--heroes-db-url``), on that server
through its async driver (asyncpg, aiomysql): the ``async_backend`` fixture
of tests/conftest.py.  Databases come from
:func:`heroes_sa.testing.async_scratch_database`, statements are recorded
with :func:`heroes_sa.testing.record_sql`.
"""

from __future__ import annotations

import gc
import re
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.engine import URL
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine

import heroes_sa
from heroes_sa.testing import async_scratch_database


@asynccontextmanager
async def fresh_async_engine(
    url: URL | None, revision: str | None = "head"
) -> AsyncIterator[AsyncEngine]:
    """An async engine on a new, empty database, migrated to ``revision`` unless None.

    ``url`` is the server under test, or None for in-memory SQLite.
    """
    async with async_scratch_database(url) as engine:
        if revision is not None:
            await heroes_sa.upgrade_async(engine, revision)
        yield engine


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
