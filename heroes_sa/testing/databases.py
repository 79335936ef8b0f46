"""Databases of their own for tests: SQLite in memory, or a namespace on a server.

:func:`scratch_database` hands out an engine on a new, empty database and
removes it afterwards; :func:`async_scratch_database` does the same for an
AsyncEngine, with the same statements through the backend's async driver.
On a server that is a namespace created under a unique name
(``heroes_test_`` and random hex) next to the user's data and dropped at the
end, so a test run never reads or writes the user's tables:

PostgreSQL
    a schema in the database the URL names, made the connections' only
    ``search_path`` entry (``CREATE SCHEMA`` needs only the ``CREATE``
    privilege on that database, not ``CREATEDB``).
MySQL / MariaDB
    a database (``CREATE DATABASE``; MySQL's schemas are databases).

:func:`restart_identities` makes rolled-back inserts give their ids back, as
SQLite does, so tests see the same ids on every backend (the
``heroes_restart_identities`` fixture).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateSchema, DropSchema, ExecutableDDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from heroes_sa.aio import async_url
from heroes_sa.drivers import describe_location
from heroes_sa.engine import create_engine, resolve_url
from heroes_sa.errors import HeroesError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

#: Backends the test fixtures run on, by SQLAlchemy backend name.
SUPPORTED_BACKENDS: Final = ("sqlite", "postgresql", "mysql", "mariadb")

#: What every namespace the fixtures create is called, followed by random hex;
#: anything left with this prefix after a killed run is safe to drop.
NAME_PREFIX: Final = "heroes_test_"

# DROP waits for locks that a leaked connection in a transaction may hold;
# MariaDB's default wait is a year.  These bound it so a run cannot hang.
_LOCK_TIMEOUTS: Final = {
    "postgresql": "SET lock_timeout = '10s'",
    "mysql": "SET SESSION lock_wait_timeout = 10",
}


class DatabaseUnavailableError(HeroesError):
    """The server named by a test database URL cannot be used."""


def backend_of(url: URL) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB counts as MySQL here)."""
    backend = url.get_backend_name()
    return "mysql" if backend == "mariadb" else backend


def check_supported(url: URL) -> None:
    """Raise :class:`HeroesError` unless the fixtures can run on ``url``'s backend."""
    if url.get_backend_name() not in SUPPORTED_BACKENDS:
        raise HeroesError(
            f"heroes_sa's test fixtures run on SQLite, PostgreSQL and MySQL/MariaDB;"
            f" {url.drivername} is none of them"
        )


def scratch_name() -> str:
    """A new namespace name: :data:`NAME_PREFIX` and 12 random hex digits."""
    return NAME_PREFIX + secrets.token_hex(6)


def scratch_url(url: URL, name: str) -> URL:
    """``url`` moved into the namespace ``name`` that :func:`scratch_database` made.

    A plain URL, so it can be handed to another process (``heroes-sa demo
    --db``, ``alembic``) as it is.
    """
    if backend_of(url) == "postgresql":
        # libpq's "options" carries the search_path to every new connection;
        # a later -c wins, so options the user already gave are kept.
        given = url.query.get("options", ())
        options = [*([given] if isinstance(given, str) else given), f"-csearch_path={name}"]
        return url.update_query_dict({"options": " ".join(options)})
    return url.set(database=name)


def async_driver_url(url: URL) -> URL:
    """``url`` with an async driver: its own if it is one, else its backend's default.

    ``postgresql+psycopg://...`` becomes ``postgresql+asyncpg://...`` and
    ``mysql+pymysql://...`` ``mysql+aiomysql://...``, the driver
    :func:`heroes_sa.aio.async_url` gives a URL naming none; the rest of the
    URL is kept.
    """
    if url.get_dialect().is_async:
        return url
    return async_url(url.set(drivername=url.get_backend_name()))


def in_namespace(
    server: URL, name: str, engine_kwargs: dict[str, Any]
) -> tuple[URL, dict[str, Any]]:
    """The URL and engine arguments that put an engine on ``server`` inside ``name``.

    Every driver but asyncpg takes the namespace in the URL
    (:func:`scratch_url`); asyncpg reads no libpq ``options``, so it gets
    the search path as a server setting among its connect arguments.
    """
    if backend_of(server) != "postgresql" or server.get_driver_name() != "asyncpg":
        return scratch_url(server, name), engine_kwargs
    connect_args = dict(engine_kwargs.get("connect_args", {}))
    connect_args["server_settings"] = {
        **connect_args.get("server_settings", {}),
        "search_path": name,
    }
    return server, {**engine_kwargs, "connect_args": connect_args}


def create_namespace(connection: Connection, name: str) -> None:
    """Create the namespace ``name`` on ``connection``'s server, in a transaction of its own."""
    with connection.begin():
        connection.execute(CreateSchema(name))


def drop_namespace(connection: Connection, name: str) -> None:
    """Drop the namespace ``name`` and everything in it, waiting for locks at most 10 s."""
    backend = backend_of(connection.engine.url)
    with connection.begin():
        connection.exec_driver_sql(_LOCK_TIMEOUTS[backend])
        # PostgreSQL keeps a schema's tables unless told; MySQL drops them always.
        connection.execute(DropSchema(name, cascade=backend == "postgresql"))


def _unreachable(url: URL, error: OperationalError) -> DatabaseUnavailableError:
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    return DatabaseUnavailableError(
        f"cannot reach the test database server at {describe_location(url)}: {reason}"
    )


@contextmanager
def _admin(url: URL) -> Iterator[Connection]:
    """A connection to the user's database, for creating and dropping namespaces."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        try:
            connection = engine.connect()
        except OperationalError as error:
            raise _unreachable(url, error) from error
        with connection:
            yield connection
    finally:
        engine.dispose()


@asynccontextmanager
async def _async_admin(url: URL) -> AsyncIterator[AsyncConnection]:
    """:func:`_admin` through an async driver."""
    from heroes_sa.aio import create_async_engine

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        try:
            connection = await engine.connect()
        except OperationalError as error:
            raise _unreachable(url, error) from error
        try:
            yield connection
        finally:
            await connection.close()
    finally:
        await engine.dispose()


def _server(url: str | URL | None) -> URL | None:
    """The server ``url`` names, or None for SQLite (and for no URL at all)."""
    server = None if url is None else resolve_url(url)
    if server is None or backend_of(server) == "sqlite":
        return None
    check_supported(server)
    return server


@contextmanager
def scratch_database(url: str | URL | None = None, **engine_kwargs: Any) -> Iterator[Engine]:
    """Yield an engine on a new, empty database; remove the database afterwards.

    ``url`` names a server the way a user's application would connect to it;
    the database there is only used to create and drop the namespace (see the
    module docstring) and its tables are never touched.  ``None`` or any SQLite
    URL gives a private in-memory SQLite database instead (no file is
    touched).  ``engine_kwargs`` go to :func:`heroes_sa.create_engine`.

    Raises :class:`DatabaseUnavailableError` when the server cannot be reached.
    """
    server = _server(url)
    if server is None:
        engine = create_engine("sqlite://", **engine_kwargs)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    name = scratch_name()
    with _admin(server) as admin:
        create_namespace(admin, name)
    try:
        url_inside, kwargs = in_namespace(server, name, engine_kwargs)
        engine = create_engine(url_inside, **kwargs)
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with _admin(server) as admin:
            drop_namespace(admin, name)


@asynccontextmanager
async def async_scratch_database(
    url: str | URL | None = None, **engine_kwargs: Any
) -> AsyncIterator[AsyncEngine]:
    """:func:`scratch_database` under asyncio: an AsyncEngine on a new, empty database.

    The same namespace, made and dropped by the same statements, reached
    through an async driver (:func:`async_driver_url`), so the URL given to
    the sync fixtures serves here too.  ``None`` or any SQLite URL gives a
    private in-memory database on aiosqlite.  ``engine_kwargs`` go to
    :func:`heroes_sa.create_async_engine`, which raises
    :class:`ModuleNotFoundError` naming the extra when the driver is missing.

    Raises :class:`DatabaseUnavailableError` when the server cannot be reached.
    """
    from heroes_sa.aio import create_async_engine

    server = _server(url)
    if server is None:
        engine = create_async_engine("sqlite://", **engine_kwargs)
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    server = async_driver_url(server)
    name = scratch_name()
    async with _async_admin(server) as admin:
        await admin.run_sync(create_namespace, name)
    try:
        url_inside, kwargs = in_namespace(server, name, engine_kwargs)
        engine = create_async_engine(url_inside, **kwargs)
        try:
            yield engine
        finally:
            await engine.dispose()
    finally:
        async with _async_admin(server) as admin:
            await admin.run_sync(drop_namespace, name)


class RestartAutoIncrement(ExecutableDDLElement):
    """``ALTER TABLE t AUTO_INCREMENT = 1``: MySQL's counter back to the lowest free id."""

    inherit_cache = False

    def __init__(self, table: str) -> None:
        self.table = table


@compiles(RestartAutoIncrement, "mysql", "mariadb")
def _render_restart_auto_increment(
    element: RestartAutoIncrement, compiler: DDLCompiler, **_kw: Any
) -> str:
    # The dialect's preparer quotes the name, as SQLAlchemy's own DDL does.
    return f"ALTER TABLE {compiler.preparer.quote(element.table)} AUTO_INCREMENT = 1"


#: Every sequence of the current schema back to 1, unused (PostgreSQL).
_RESTART_SEQUENCES: Final = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
    " FROM pg_sequences WHERE schemaname = current_schema()"
)

#: Tables of the current database whose AUTO_INCREMENT counter has moved (MySQL).
_MOVED_COUNTERS: Final = text(
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = DATABASE() AND auto_increment > 1"
)


def restart_identities(connection: Connection) -> None:
    """Let the next insert into each table get id 1 again, as on SQLite.

    SQLite reuses the ids of rolled-back rows; PostgreSQL's sequences and
    MySQL's AUTO_INCREMENT counters never go back on their own, so without
    this the ids a test sees would depend on the tests before it.  Runs in
    a transaction of its own (MySQL commits DDL anyway), so call it before
    beginning the test's transaction, with every table empty.
    """
    backend = backend_of(connection.engine.url)
    if backend == "sqlite":
        return
    with connection.begin():
        if backend == "postgresql":
            connection.execute(_RESTART_SEQUENCES)
            return
        for table in connection.execute(_MOVED_COUNTERS).scalars().all():
            connection.execute(RestartAutoIncrement(table))
