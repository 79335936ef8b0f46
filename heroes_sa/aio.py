"""heroes_sa under asyncio: the async engine and the migration API for async code.

Nothing here is new machinery.  :func:`create_async_engine` is SQLAlchemy's,
with the URL mapped to an async driver and, on SQLite, the same event hooks
as :func:`heroes_sa.create_engine` installed on ``engine.sync_engine`` (the
aiosqlite recipe of SQLAlchemy's SQLite dialect documentation).  The
migration functions hand the synchronous API of :mod:`heroes_sa.migration` a
connection through :meth:`AsyncConnection.run_sync
<sqlalchemy.ext.asyncio.AsyncConnection.run_sync>`, as Alembic's async
template does, so sync and async code run the very same migrations.

SQLAlchemy's asyncio extension cannot be imported without greenlet (the
``heroes_sa[async]`` extra), so this module imports it only when an async
engine is made: ``import heroes_sa`` keeps working without the extra, and
the error names what to install.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from heroes_sa.drivers import async_driver, extra_of, pip_install
from heroes_sa.engine import resolve_url, setup_sqlite, shares_memory
from heroes_sa.migration import current_revision, downgrade, upgrade

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def async_url(url: str | URL | None = None) -> URL:
    """The URL :func:`create_async_engine` connects to.

    Found by :func:`heroes_sa.engine.resolve_url`, as the sync engine's is,
    so one setting serves sync and async code.  A URL without a driver gets
    the backend's async one from :data:`heroes_sa.drivers.BACKENDS`; a URL
    that names its driver is kept as it is.
    """
    resolved = resolve_url(url)
    if "+" in resolved.drivername:
        return resolved
    backend = resolved.get_backend_name()
    driver = async_driver(backend)
    if driver is None:
        raise ArgumentError(
            f"heroes_sa has no default async driver for {backend!r}; name one in the URL"
            f" ({backend}+<driver>://...)"
        )
    return resolved.set(drivername=f"{backend}+{driver}")


def create_async_engine(
    url: str | URL | None = None, *, sqlite_wal: bool = False, **kwargs: Any
) -> AsyncEngine:
    """Create an :class:`~sqlalchemy.ext.asyncio.AsyncEngine` for a heroes_sa database.

    The async twin of :func:`heroes_sa.create_engine`: the URL is
    :func:`heroes_sa.engine.resolve_url`'s for ``url``, and a plain
    ``sqlite://``, ``postgresql://`` or ``mysql://`` URL gets the aiosqlite,
    asyncpg or aiomysql driver (see :func:`async_url`).  Keyword arguments go
    to :func:`sqlalchemy.ext.asyncio.create_async_engine` unchanged.

    The guarantees and settings are the sync engine's.  On SQLite: foreign
    keys enforced, DDL and savepoints inside the enclosing transaction,
    transactions that begin ``IMMEDIATE`` unless the ``sqlite_begin``
    execution option says otherwise, nothing written by connecting
    (``sqlite_wal=True`` opts in to switching a file to write-ahead logging
    on connect), and one in-memory database shared by every connection of the
    engine for ``sqlite://``, which outlives any one connection.  On a
    server, connections are checked before use (``pool_pre_ping``).

    A missing driver raises :class:`ModuleNotFoundError` naming the extra to
    install (``heroes_sa[async]`` for SQLite, ``heroes_sa[asyncpg]``,
    ``heroes_sa[aiomysql]``).
    """
    resolved = async_url(url)
    driver, extra = resolved.get_driver_name(), extra_of(resolved)
    # greenlet comes with the extra of each async driver heroes_sa knows,
    # and with heroes_sa[async] for any other.
    _require("greenlet", extra if driver == async_driver(resolved.get_backend_name()) else "async")
    _require(driver, extra)
    from sqlalchemy.ext.asyncio import create_async_engine as sa_create_async_engine

    if resolved.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return sa_create_async_engine(resolved, **kwargs)
    share = shares_memory(resolved, kwargs) and resolved.get_dialect().is_async
    if share:
        # aiosqlite's default for memory is StaticPool, one connection for the
        # whole engine; the shared memdb database lets each checkout have its
        # own.  (A sync driver is left for SQLAlchemy to refuse.)
        from sqlalchemy.pool import AsyncAdaptedQueuePool

        kwargs.setdefault("poolclass", AsyncAdaptedQueuePool)
    engine = sa_create_async_engine(resolved, **kwargs)
    setup_sqlite(engine.sync_engine, resolved, wal=sqlite_wal, share_memory=share)
    return engine


def _require(module: str, extra: str | None) -> None:
    # Checked up front so the error names the extra to install; a driver
    # heroes_sa does not know about is left to SQLAlchemy to import.
    if extra is not None and find_spec(module) is None:
        raise ModuleNotFoundError(
            f"heroes_sa's async support needs {module}, which is not installed:"
            f" {pip_install(extra)}",
            name=module,
        )


@asynccontextmanager
async def _connected(bind: AsyncEngine | AsyncConnection) -> AsyncIterator[AsyncConnection]:
    from sqlalchemy.ext.asyncio import AsyncEngine

    if isinstance(bind, AsyncEngine):
        async with bind.connect() as connection:
            yield connection
    else:
        yield bind


async def upgrade_async(bind: AsyncEngine | AsyncConnection, revision: str = "head") -> None:
    """Migrate the database behind ``bind`` up to ``revision``; see :func:`heroes_sa.upgrade`.

    An AsyncConnection with no transaction begun is migrated in a transaction
    of its own, committed at the end; one already in a transaction is
    migrated inside it, and the caller commits.
    """
    async with _connected(bind) as connection:
        await connection.run_sync(upgrade, revision)


async def downgrade_async(bind: AsyncEngine | AsyncConnection, revision: str) -> None:
    """Migrate the database behind ``bind`` down to ``revision``; see :func:`heroes_sa.downgrade`.

    Raises :class:`~heroes_sa.errors.MigrationRefusedError`, with the database
    unchanged, when the data cannot be carried down.
    """
    async with _connected(bind) as connection:
        await connection.run_sync(downgrade, revision)


async def current_revision_async(bind: AsyncEngine | AsyncConnection) -> str | None:
    """The revision the database is at, or ``None``; see :func:`heroes_sa.current_revision`."""
    async with _connected(bind) as connection:
        return await connection.run_sync(current_revision)


def run_sync_on(url: URL, action: Callable[[Connection], None]) -> None:
    """Run ``action`` on one connection of an async engine opened from ``url``.

    For synchronous callers that must reach a database through an async
    driver (env.py, ``heroes-sa db``): a new event loop, the engine made with
    :func:`create_async_engine`, ``action`` handed the sync Connection through
    ``run_sync`` as Alembic's async template does, the engine disposed after.
    """
    asyncio.run(_run_sync_on(url, action))


async def _run_sync_on(url: URL, action: Callable[[Connection], None]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(action)
    finally:
        await engine.dispose()
