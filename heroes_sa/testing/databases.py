"""Databases of their own for tests: SQLite in memory, or a namespace on a server.

:func:`scratch_database` hands out an engine on a new, empty database and
removes it afterwards.  On a server that is a namespace created under a
unique name (``heroes_test_`` and random hex) next to the user's data and
dropped at the end, so a test run never reads or writes the user's tables:

PostgreSQL
    a schema in the database the URL names, made the connections' only
    ``search_path`` entry (``CREATE SCHEMA`` needs only the ``CREATE``
    privilege on that database, not ``CREATEDB``).
MySQL / MariaDB
    a database (``CREATE DATABASE``; MySQL's schemas are databases).

:func:`restart_identities` makes rolled-back inserts give their ids back, as
SQLite does, so tests see the same ids on every backend.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateSchema, DropSchema, ExecutableDDLElement
from sqlalchemy.sql.compiler import DDLCompiler

from heroes_sa.engine import create_engine, describe_location, resolve_url
from heroes_sa.errors import HeroesError

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


@contextmanager
def _admin(url: URL) -> Iterator[Connection]:
    """A connection to the user's database, for creating and dropping namespaces."""
    engine = create_engine(url)
    try:
        try:
            connection = engine.connect()
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise DatabaseUnavailableError(
                f"cannot reach the test database server at {describe_location(url)}: {reason}"
            ) from error
        with connection:
            yield connection
    finally:
        engine.dispose()


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
    server = None if url is None else resolve_url(url)
    if server is None or backend_of(server) == "sqlite":
        engine = create_engine("sqlite://", **engine_kwargs)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    check_supported(server)
    name = scratch_name()
    with _admin(server) as admin, admin.begin():
        admin.execute(CreateSchema(name))
    engine = create_engine(scratch_url(server, name), **engine_kwargs)
    try:
        yield engine
    finally:
        engine.dispose()
        with _admin(server) as admin, admin.begin():
            admin.exec_driver_sql(_LOCK_TIMEOUTS[backend_of(server)])
            # PostgreSQL keeps a schema's tables unless told; MySQL drops them always.
            admin.execute(DropSchema(name, cascade=backend_of(server) == "postgresql"))


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
