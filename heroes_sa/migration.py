"""The migration API: the Alembic history, run from Python.

:func:`upgrade`, :func:`downgrade` and :func:`current_revision` are thin
wrappers over :mod:`alembic.command`, run on the same scripts as the
``alembic`` CLI.  Following Alembic's cookbook ("Sharing a Connection across
one or more programmatic migration commands") the caller's connection travels
to ``env.py`` in ``Config.attributes``, which is what lets an in-memory SQLite
database be migrated at all.

:func:`migration_transaction` is the transaction every migration runs in; on
SQLite it follows SQLite's documented procedure for schema changes that
rebuild tables (https://www.sqlite.org/lang_altertable.html, "Making Other
Kinds Of Table Schema Changes").
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

from heroes_sa.engine import (
    has_sqlite_hooks,
    is_sqlite_memory,
    reading,
    sqlite_begin,
    sqlite_pragma,
)
from heroes_sa.errors import MigrationError

#: ``Config.attributes`` key under which env.py finds the caller's connection.
CONNECTION_ATTRIBUTE: Final = "connection"

_PACKAGE_DIR = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)


def script_location() -> Path:
    """Directory holding ``env.py`` and ``versions/``.

    A wheel carries the scripts inside the package as ``heroes_sa/_migrations``
    (see ``pyproject.toml``); a checkout has them at the top level as
    ``migrations/``, where the ``alembic`` CLI finds them through
    ``alembic.ini``.
    """
    for candidate in (_PACKAGE_DIR / "_migrations", _PACKAGE_DIR.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise MigrationError(
        f"heroes_sa's migration scripts are missing: looked in {_PACKAGE_DIR / '_migrations'}"
        f" and {_PACKAGE_DIR.parent / 'migrations'}"
    )


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for heroes_sa's scripts.

    With ``connection``, env.py migrates that connection instead of opening
    one from a URL.
    """
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes[CONNECTION_ATTRIBUTE] = connection
    return config


def head_revision() -> str:
    """The id of the newest revision in the history."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the history is never empty
        raise MigrationError("the migration history has no head")
    return head


@contextmanager
def _connected(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection
    else:
        yield bind


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """Migrate the database behind ``bind`` up to ``revision``.

    ``bind`` is an Engine or a Connection.  A Connection with no transaction
    begun is migrated in a transaction of its own, committed at the end; one
    already in a transaction is migrated inside it, and the caller commits.
    """
    with _connected(bind) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(bind: Engine | Connection, revision: str) -> None:
    """Migrate the database behind ``bind`` down to ``revision``.

    Raises :class:`~heroes_sa.errors.MigrationRefusedError`, with the database
    unchanged, when the data cannot be carried down (a hero in two teams
    cannot go back to a single ``team_id``).
    """
    with _connected(bind) as connection:
        command.downgrade(alembic_config(connection), revision)


def current_revision(bind: Engine | Connection) -> str | None:
    """The revision the database is at, or ``None`` when it has none.

    Reads only, without waiting for SQLite's write lock (see
    :func:`heroes_sa.engine.reading`); a Connection that had no transaction
    begun is left without one.
    """
    with reading(bind) as connection:
        context = MigrationContext.configure(connection, opts=alembic_opts(connection))
        return context.get_current_revision()


def alembic_opts(connection: Connection) -> dict[str, Any]:
    """Options every MigrationContext on ``connection`` needs to describe it truly.

    Alembic assumes SQLite commits DDL on its own, as the bare driver does;
    on an engine with :func:`heroes_sa.engine.install_sqlite_hooks` DDL is
    part of the transaction.  Elsewhere Alembic's own default is right.
    """
    if connection.dialect.name == "sqlite" and has_sqlite_hooks(connection):
        return {"transactional_ddl": True}
    return {}


def scripts_to_undo(script: ScriptDirectory, current: str | None, destination: str) -> list[Script]:
    """The revisions a move from ``current`` to ``destination`` would undo, newest first.

    Empty when the move is not a downgrade.  ``destination`` is what the
    command was given: a revision id (or a unique prefix of one), ``base``, or
    ``-N`` relative to ``current``.  The history is linear (one head), which
    the tests hold it to.
    """
    history = [sc.revision for sc in script.walk_revisions()]  # newest first
    if current not in history:
        return []  # nothing to undo, or a revision alembic will report itself
    position = history.index(current)
    if destination == "base":
        target = len(history)
    elif destination.startswith("-") and destination[1:].isdigit():
        target = position + int(destination[1:])
    else:
        try:
            found = script.get_revision(destination)
        except CommandError:
            return []  # "+1", "heads", a typo: not a downgrade we can read; alembic decides
        target = history.index(found.revision) if found is not None else len(history)
    return [script.get_revision(rev) for rev in history[position:target]]


def check_downgrade_path(connection: Connection, script: ScriptDirectory, destination: str) -> None:
    """Run the data checks of every revision a downgrade will undo, before any of it.

    A revision that may refuse to go down defines ``check_downgrade(bind)``
    beside ``downgrade()``.  Running all of them first means a refusal leaves
    the database untouched even where DDL commits at once (MariaDB), however
    many revisions the downgrade crosses.
    """
    context = MigrationContext.configure(connection, opts=alembic_opts(connection))
    current = context.get_current_revision()
    for sc in scripts_to_undo(script, current, destination):
        check = getattr(sc.module, "check_downgrade", None)
        if check is not None:
            check(connection)


def foreign_key_violations(connection: Connection) -> set[tuple[str, int, str]]:
    """(table, rowid, referred table) of every violated foreign key (SQLite)."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return {(table, rowid, parent) for table, rowid, parent, _ in rows}


def check_foreign_keys(connection: Connection, known: set[tuple[str, int, str]]) -> None:
    """Raise :class:`MigrationError` if the migration added a foreign key violation.

    ``known`` are the violations that were there before it ran (a database
    SQLite never checked may hold some): those are the data's, not the
    migration's, and the revision that cannot carry them refuses them itself.
    """
    added = foreign_key_violations(connection) - known
    if added:
        found = "; ".join(
            f"{table} rowid {rowid} -> {parent}" for table, rowid, parent in sorted(added)
        )
        raise MigrationError(f"migration would leave foreign keys violated: {found}")


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[None]:
    """The transaction a migration runs in, committed only if it all succeeds.

    On SQLite this is SQLite's own procedure for table rebuilds: foreign key
    enforcement is switched off on this connection only, the migration runs
    in one transaction, ``PRAGMA foreign_key_check`` must find nothing before
    the commit, and enforcement is switched back on whatever happens.  Other
    connections keep enforcing foreign keys throughout.

    The transaction begins ``IMMEDIATE``: it holds SQLite's write lock before
    Alembic reads the current revision, so of two migrations started
    together one waits for the other and then finds its work done.  If the
    lock does not come within the busy timeout, :class:`MigrationError` says
    so, with nothing changed.  A migration that wrote to a database file
    leaves it in write-ahead logging mode (see :mod:`heroes_sa.engine`).
    """
    if connection.dialect.name != "sqlite":
        if connection.in_transaction():
            yield
        else:
            with connection.begin():
                yield
        return
    if not has_sqlite_hooks(connection):
        raise MigrationError(
            "this SQLite engine commits DDL on its own, so a failed migration would be"
            " left half-applied; create it with heroes_sa.create_engine() or call"
            " heroes_sa.engine.install_sqlite_hooks() on it"
        )
    if connection.in_transaction():
        if connection.exec_driver_sql("PRAGMA foreign_keys").scalar():
            raise MigrationError(
                "SQLite cannot switch foreign keys off inside a transaction, which table"
                " rebuilds need; pass an Engine, or a Connection with no transaction begun"
            )
        known = foreign_key_violations(connection)
        yield
        check_foreign_keys(connection, known)
        return
    driver = connection.connection.dbapi_connection
    changes = sqlite_pragma(driver, "SELECT total_changes()")
    sqlite_pragma(driver, "PRAGMA foreign_keys=OFF")
    try:
        with sqlite_begin(connection, "IMMEDIATE"):
            transaction = _begin_waiting(connection)
        with transaction:
            known = foreign_key_violations(connection)
            yield
            check_foreign_keys(connection, known)
    finally:
        sqlite_pragma(driver, "PRAGMA foreign_keys=ON")
    # Every step Alembic applies writes alembic_version, so a migration that
    # changed nothing (already at its target, or refused) changed no row.
    if sqlite_pragma(driver, "SELECT total_changes()") != changes:
        _switch_to_wal(connection)


def _begin_waiting(connection: Connection) -> RootTransaction:
    """Begin ``connection``'s transaction; a lock held past the busy timeout is one line."""
    try:
        return connection.begin()
    except OperationalError as error:
        if not is_sqlite_locked(error):
            raise
        waited = sqlite_pragma(connection.connection.dbapi_connection, "PRAGMA busy_timeout")
        raise MigrationError(
            f"the database is locked: another connection held its write lock for all of"
            f" the {waited / 1000:g} s this migration waited (the driver's timeout);"
            " nothing was changed, try again once the other writer has finished"
        ) from error


def is_sqlite_locked(error: OperationalError) -> bool:
    """True for SQLite's "database is locked" (SQLITE_BUSY) and its kin."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _switch_to_wal(connection: Connection) -> None:
    if is_sqlite_memory(connection.engine.url):
        return
    driver = connection.connection.dbapi_connection
    try:
        sqlite_pragma(driver, "PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as error:
        # The migration is committed; a reader that kept the file busy past
        # the timeout only delays WAL to the next migration.
        logger.warning("could not switch the database to WAL mode yet: %s", error)
