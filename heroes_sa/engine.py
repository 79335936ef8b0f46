"""Engine setup: where the URL comes from, and SQLite made to keep its promises.

Python's ``sqlite3`` driver, left as it is, does not enforce foreign keys,
commits DDL on its own and lets ``SAVEPOINT`` escape the enclosing transaction.
:func:`create_engine` applies the fix from SQLAlchemy's SQLite dialect
documentation ("Enabling Non-Legacy SQLite Transactional Modes"): the driver's
own transaction handling is switched off at connect time and SQLAlchemy emits
``BEGIN`` itself, so transactions, savepoints and migrations really hold.
"""

from __future__ import annotations

import os
from typing import Any, Final

import sqlalchemy
from sqlalchemy import Connection, Engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

#: Environment variable naming the database, for the library and the CLI alike.
URL_ENV_VAR: Final = "HEROES_DATABASE_URL"

#: The database used when neither an argument nor the environment names one.
DEFAULT_URL: Final = "sqlite:///database.db"


def resolve_url(url: str | URL | None = None) -> URL:
    """Return ``url``, else ``$HEROES_DATABASE_URL``, else :data:`DEFAULT_URL`."""
    if url is None:
        url = os.environ.get(URL_ENV_VAR) or DEFAULT_URL
    return make_url(url)


#: Ports the drivers use when a URL names none, so messages can name them.
DEFAULT_PORTS: Final[dict[str, int]] = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}

#: Server backend -> (the extra of heroes_sa that installs its driver, that driver).
DRIVER_EXTRAS: Final[dict[str, tuple[str, str]]] = {
    "postgresql": ("postgres", "psycopg"),
    "mysql": ("mysql", "pymysql"),
    "mariadb": ("mysql", "pymysql"),
}


def describe_location(url: URL) -> str:
    """Where ``url`` points, for messages: ``host:port``, never the password.

    A URL with no port gets the backend's default port, which is the one the
    driver tried; one with no host (SQLite) is shown without its password.
    """
    if not url.host:
        return url.render_as_string(hide_password=True)
    port = url.port or DEFAULT_PORTS.get(url.get_backend_name())
    return f"{url.host}:{port}" if port else url.host


def is_sqlite_memory(url: URL) -> bool:
    """True when ``url`` names a private in-memory SQLite database."""
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or database.startswith("file::memory:")
    )


def create_engine(
    url: str | URL | None = None, *, sqlite_wal: bool = True, **kwargs: Any
) -> Engine:
    """Create an :class:`~sqlalchemy.Engine` for a heroes_sa database.

    The URL comes from ``url``, else the ``HEROES_DATABASE_URL`` environment
    variable, else ``sqlite:///database.db``.  Keyword arguments go to
    :func:`sqlalchemy.create_engine` unchanged (``echo=True``, pool settings...).

    On SQLite every connection enforces foreign keys and gets real
    transactions: DDL and savepoints take part in the enclosing transaction.
    A database file is switched to write-ahead logging (unless
    ``sqlite_wal=False``) so readers never block the writer, and a writer
    waits for the lock (the driver's ``timeout``, 5 s unless ``connect_args``
    says otherwise) instead of failing.  Transactions begin ``DEFERRED`` as
    SQLite's do; code whose transactions read before they write under
    concurrency should begin them ``IMMEDIATE``, with
    ``execution_options={"sqlite_begin": "IMMEDIATE"}`` here or on a connection.
    An in-memory URL (``sqlite://``) gives one database shared by every
    connection of the engine, instead of a new empty database per pooled
    connection.

    On a database server, connections are checked before use
    (``pool_pre_ping``), so a restarted server costs one reconnect, not an error.
    """
    resolved = resolve_url(url)
    if resolved.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
    elif is_sqlite_memory(resolved):
        kwargs.setdefault("poolclass", StaticPool)
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("check_same_thread", False)
    engine = sqlalchemy.create_engine(resolved, **kwargs)
    if engine.dialect.name == "sqlite":
        install_sqlite_hooks(engine)
        if sqlite_wal and not is_sqlite_memory(resolved):
            install_sqlite_wal(engine)
    return engine


def install_sqlite_hooks(engine: Engine) -> None:
    """Make ``engine``'s SQLite connections transactional and FK-enforcing.

    Exposed so that an engine built some other way (``sqlalchemy.create_engine``
    directly, or ``AsyncEngine.sync_engine``) can get the same guarantees.
    """
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)


def install_sqlite_wal(engine: Engine) -> None:
    """Switch each new connection of ``engine`` (a SQLite file) to write-ahead logging.

    What :func:`create_engine` does for files unless ``sqlite_wal=False``;
    exposed for ``AsyncEngine.sync_engine`` as :func:`install_sqlite_hooks` is.
    """
    event.listen(engine, "connect", _on_sqlite_connect_wal)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level=None stops the driver from issuing BEGIN/COMMIT on its
    # own guesses; _on_sqlite_begin takes over.  The pragma must run outside
    # a transaction, which is the case right after connecting.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


#: ``sqlite_begin`` execution option -> the statement that starts a transaction.
SQLITE_BEGIN: Final = {
    "DEFERRED": "BEGIN",
    "IMMEDIATE": "BEGIN IMMEDIATE",
    "EXCLUSIVE": "BEGIN EXCLUSIVE",
}


def _on_sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    try:
        statement = SQLITE_BEGIN[mode]
    except KeyError:
        raise ValueError(
            f"sqlite_begin must be one of {', '.join(SQLITE_BEGIN)}; got {mode!r}"
        ) from None
    connection.exec_driver_sql(statement)


def _on_sqlite_connect_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def has_sqlite_hooks(connection: Connection) -> bool:
    """True when ``connection`` is SQLite set up by :func:`install_sqlite_hooks`."""
    return event.contains(connection.engine, "begin", _on_sqlite_begin)
