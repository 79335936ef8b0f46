"""Engine setup: where the URL comes from, and SQLite made to keep its promises.

Python's ``sqlite3`` driver, left as it is, does not enforce foreign keys,
commits DDL on its own and lets ``SAVEPOINT`` escape the enclosing transaction.
:func:`create_engine` applies the fix from SQLAlchemy's SQLite dialect
documentation ("Enabling Non-Legacy SQLite Transactional Modes"): the driver's
own transaction handling is switched off at connect time and SQLAlchemy emits
``BEGIN`` itself, so transactions, savepoints and migrations really hold.

Three more defaults make SQLite safe under concurrency, each for a reason:

* Transactions begin ``IMMEDIATE``: they take the write lock up front, waiting
  for it as long as the busy timeout allows.  A ``DEFERRED`` transaction that
  reads and then writes cannot wait: SQLite fails it at once with "database
  is locked" when another writer got in between (Rails and Django made the
  same change for the same reason).  Read-only work may opt out with the
  ``sqlite_begin="DEFERRED"`` execution option; :func:`reading` does.
* ``sqlite://`` is one database that every connection of the engine shares,
  through SQLite's ``memdb`` VFS: real connections with SQLite's own locking,
  instead of one connection shared by every thread.  The engine keeps one
  more connection open for as long as it lives, so losing any pooled
  connection (SQLAlchemy invalidates one after some errors) loses no data.
* Opening a database never writes to it.  Write-ahead logging, which lets
  readers run beside a writer, is switched on by the migrations, which write
  on purpose (WAL is persistent in the file), or at connect time only with
  ``sqlite_wal=True``.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import sqlalchemy
from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.pool import QueuePool

from heroes_sa.errors import HeroesError

#: Environment variable naming the database, for the library and the CLI alike.
URL_ENV_VAR: Final = "HEROES_DATABASE_URL"

#: The database :func:`resolve_url` falls back to unless its caller gives another.
DEFAULT_URL: Final = "sqlite:///database.db"


def resolve_url(url: str | URL | None = None, *, default: str | URL = DEFAULT_URL) -> URL:
    """The database to use: ``url``, else ``$HEROES_DATABASE_URL``, else ``default``.

    The one rule by which the library, the CLI and the migrations find their
    database.  ``default`` is the caller's own: :data:`DEFAULT_URL` for the
    library and ``heroes-sa db``, an in-memory database for ``heroes-sa
    demo``, the ini file's ``sqlalchemy.url`` for the ``alembic`` CLI.
    """
    if url is None:
        url = os.environ.get(URL_ENV_VAR) or default
    return make_url(url)


def is_sqlite_memory(url: URL) -> bool:
    """True when ``url`` names an in-memory SQLite database."""
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or database.startswith("file::memory:")
    )


def is_private_sqlite_memory(url: URL) -> bool:
    """True for ``sqlite://`` and ``sqlite:///:memory:``, which heroes_sa shares.

    SQLAlchemy would give each pooled connection a database of its own; see
    :func:`share_memory_database`.  A ``file::memory:`` URI is the user's own
    choice of sharing and is left as it is.
    """
    return url.get_backend_name() == "sqlite" and (url.database or "") in ("", ":memory:")


def create_engine(
    url: str | URL | None = None, *, sqlite_wal: bool = False, **kwargs: Any
) -> Engine:
    """Create an :class:`~sqlalchemy.Engine` for a heroes_sa database.

    The URL is :func:`resolve_url`'s for ``url``.  Keyword arguments go to
    :func:`sqlalchemy.create_engine` unchanged (``echo=True``, pool settings...).

    On SQLite every connection enforces foreign keys and gets real
    transactions: DDL and savepoints take part in the enclosing transaction.
    Transactions begin ``IMMEDIATE``, so a writer waits for another one (the
    driver's ``timeout``, 5 s unless ``connect_args`` says otherwise) instead
    of failing; pass ``execution_options={"sqlite_begin": "DEFERRED"}`` here,
    or on a connection, for work that only reads and should not queue behind
    writers.  Connecting writes nothing to the file: the migrations switch a
    database file to write-ahead logging, or ``sqlite_wal=True`` does it on
    every connect.  An in-memory URL (``sqlite://``) gives one database shared
    by every connection of the engine, kept for as long as the engine exists.

    On a database server, connections are checked before use
    (``pool_pre_ping``), so a restarted server costs one reconnect, not an error.
    """
    resolved = resolve_url(url)
    if resolved.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return sqlalchemy.create_engine(resolved, **kwargs)
    share = shares_memory(resolved, kwargs)
    if share:
        # Connections move between threads through the pool; each is used by
        # one thread at a time, which is what sqlite3 needs.
        kwargs.setdefault("poolclass", QueuePool)
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    engine = sqlalchemy.create_engine(resolved, **kwargs)
    setup_sqlite(engine, resolved, wal=sqlite_wal, share_memory=share)
    return engine


def shares_memory(url: URL, engine_kwargs: dict[str, Any]) -> bool:
    """True when heroes_sa makes ``url``'s in-memory database one shared database.

    So it does for ``sqlite://`` unless the caller hands in connections of
    its own (``creator``, ``async_creator``), which are theirs to share.
    """
    return is_private_sqlite_memory(url) and not {"creator", "async_creator"} & set(engine_kwargs)


def setup_sqlite(engine: Engine, url: URL, *, wal: bool, share_memory: bool) -> None:
    """Everything :func:`create_engine` adds to a SQLite engine for ``url``.

    Shared with :func:`heroes_sa.aio.create_async_engine`, which calls it on
    ``AsyncEngine.sync_engine``.
    """
    install_sqlite_hooks(engine)
    if share_memory:
        share_memory_database(engine)
    elif wal and not is_sqlite_memory(url):
        install_sqlite_wal(engine)


#: SQLite's memdb VFS (several connections to one in-memory database, with
#: SQLite's own locking) arrived in this version.
MEMDB_MIN_VERSION: Final = (3, 36, 0)


def share_memory_database(engine: Engine) -> None:
    """Point every connection ``engine`` makes at one new in-memory database.

    The database is named in SQLite's ``memdb`` VFS, which lets several
    connections of one process open it, each with its own transactions and
    SQLite's ordinary locks.  It lives as long as one connection to it is
    open: the engine keeps one that it never hands out, closed when the
    engine is garbage-collected, so a connection that the pool discards
    (invalidated after an error) takes nothing with it.
    """
    if sqlite3.sqlite_version_info < MEMDB_MIN_VERSION:
        raise HeroesError(
            f"an in-memory heroes_sa engine needs SQLite 3.36 or newer (its memdb VFS);"
            f" this Python has SQLite {sqlite3.sqlite_version}: use a database file instead"
        )
    name = f"file:/heroes_sa-{secrets.token_hex(8)}?vfs=memdb"
    keeper = sqlite3.connect(name, uri=True, check_same_thread=False)
    weakref.finalize(engine, keeper.close)

    def connect_to_shared(_dialect: Any, _record: Any, cargs: list[Any], cparams: Any) -> None:
        cargs[:] = [name]
        cparams["uri"] = True

    event.listen(engine, "do_connect", connect_to_shared)


def install_sqlite_hooks(engine: Engine) -> None:
    """Make ``engine``'s SQLite connections transactional and FK-enforcing.

    Exposed so that an engine built some other way (``sqlalchemy.create_engine``
    directly, or ``AsyncEngine.sync_engine``) can get the same guarantees.
    """
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)


def install_sqlite_wal(engine: Engine) -> None:
    """Switch each new connection of ``engine`` (a SQLite file) to write-ahead logging.

    What :func:`create_engine` does with ``sqlite_wal=True``.  Connecting then
    writes to the file (the journal mode lives in its header), so a
    read-only file cannot be opened this way.
    """
    event.listen(engine, "connect", _on_sqlite_connect_wal)


#: Key in a pooled connection's ``info`` saying :func:`install_sqlite_hooks` set it up.
_SET_UP: Final = "heroes_sa.sqlite"


def _on_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
    # isolation_level=None stops the driver from issuing BEGIN/COMMIT on its
    # own guesses; _on_sqlite_begin takes over.  The pragma must run outside
    # a transaction, which is the case right after connecting.
    dbapi_connection.isolation_level = None
    sqlite_pragma(dbapi_connection, "PRAGMA foreign_keys=ON")
    record.info[_SET_UP] = True


#: ``sqlite_begin`` execution option -> the statement that starts a transaction.
SQLITE_BEGIN: Final = {
    "DEFERRED": "BEGIN",
    "IMMEDIATE": "BEGIN IMMEDIATE",
    "EXCLUSIVE": "BEGIN EXCLUSIVE",
}

#: How transactions begin when no ``sqlite_begin`` option says otherwise.
DEFAULT_SQLITE_BEGIN: Final = "IMMEDIATE"


def _on_sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin") or DEFAULT_SQLITE_BEGIN
    try:
        statement = SQLITE_BEGIN[mode]
    except KeyError:
        raise ValueError(
            f"sqlite_begin must be one of {', '.join(SQLITE_BEGIN)}; got {mode!r}"
        ) from None
    connection.exec_driver_sql(statement)


def _on_sqlite_connect_wal(dbapi_connection: Any, _record: Any) -> None:
    sqlite_pragma(dbapi_connection, "PRAGMA journal_mode=WAL")


def sqlite_pragma(dbapi_connection: Any, statement: str) -> Any:
    """Run a PRAGMA on the driver's connection itself; return its first value.

    Through SQLAlchemy the statement would begin a transaction first, and
    some pragmas (``foreign_keys``, ``journal_mode``) are ignored or refused
    inside one.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement)
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else row[0]


def has_sqlite_hooks(connection: Connection) -> bool:
    """True when ``connection`` is SQLite set up by :func:`install_sqlite_hooks`."""
    return bool(connection.connection.info.get(_SET_UP))


@contextmanager
def sqlite_begin(connection: Connection, mode: str) -> Iterator[Connection]:
    """``connection`` with its transactions beginning ``mode`` for the block.

    Its own ``sqlite_begin`` option is put back afterwards.  The option is
    read when a transaction begins, so this changes nothing for a
    transaction already begun; on other backends it changes nothing at all.
    """
    previous = connection.get_execution_options().get("sqlite_begin")
    connection.execution_options(sqlite_begin=mode)
    try:
        yield connection
    finally:
        connection.execution_options(sqlite_begin=previous)


@contextmanager
def reading(bind: Engine | Connection) -> Iterator[Connection]:
    """A connection for work that only reads, left as it was found.

    On SQLite its transaction begins ``DEFERRED``, so it neither takes nor
    waits for the write lock, and works on a read-only file.  An Engine lends
    a connection of its own; a Connection already in a transaction is used
    in it; one with none is used in a transaction that is rolled back at the
    end.
    """
    if isinstance(bind, Engine):
        with bind.connect() as connection, sqlite_begin(connection, "DEFERRED"):
            yield connection
        return
    if bind.in_transaction():
        yield bind
        return
    with sqlite_begin(bind, "DEFERRED"):
        try:
            yield bind
        finally:
            bind.rollback()
