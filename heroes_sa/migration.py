"""The migration API: the Alembic history, run from Python.

:func:`upgrade`, :func:`downgrade` and :func:`current_revision` are thin
wrappers over :mod:`alembic.command`, run on the same scripts as the
``alembic`` CLI and ``heroes-sa db``.  Following Alembic's cookbook ("Sharing
a Connection across one or more programmatic migration commands") the
caller's connection travels to ``env.py`` in ``Config.attributes``, which is
what lets an in-memory SQLite database be migrated at all.

:func:`migration_transaction` is the transaction every migration runs in, and
:func:`check_destination` what ``env.py`` checks before the first step.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

from heroes_sa.engine import (
    has_sqlite_hooks,
    is_sqlite_memory,
    reading,
    sqlite_begin,
    sqlite_pragma,
)
from heroes_sa.errors import MigrationError, WrongRevisionError

#: ``Config.attributes`` key under which env.py finds the caller's connection.
CONNECTION_ATTRIBUTE: Final = "connection"

#: ``Config.attributes`` key telling env.py the command is an upgrade, which
#: Alembic does not say; :func:`check_destination` refuses one that goes down.
UPGRADE_ATTRIBUTE: Final = "heroes_sa.upgrade"

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
    one from a URL.  What the commands print (``current``, ``history``) goes
    to ``sys.stdout`` as it is now, so ``contextlib.redirect_stdout`` works
    (``Config``'s own default is the ``sys.stdout`` of import time).
    """
    config = Config(stdout=sys.stdout)
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
    already in a transaction (or a savepoint) is migrated inside it, and the
    caller commits.

    Raises :class:`~heroes_sa.errors.WrongRevisionError`, changing nothing,
    when ``revision`` is below the database's revision: going there is a
    downgrade (where Alembic's own upgrade would silently do nothing).
    """
    with _connected(bind) as connection:
        config = alembic_config(connection)
        config.attributes[UPGRADE_ATTRIBUTE] = True
        command.upgrade(config, revision)


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


def scripts_to_undo(
    script: ScriptDirectory, current: str | tuple[str, ...] | None, destination: str
) -> list[Script]:
    """The revisions a move from ``current`` to ``destination`` would undo, newest first.

    Alembic's own downgrade path (``iterate_revisions(...,
    select_for_downgrade=True)``), so ``destination`` is anything a downgrade
    accepts: a revision id or a unique prefix of one, ``base``, ``-N``.  Empty
    when the move undoes nothing: an upgrade, or a destination Alembic cannot
    resolve from ``current`` (it reports that itself when it plans the steps).
    """
    try:
        return list(script.iterate_revisions(current, destination, select_for_downgrade=True))
    except RevisionError:
        return []


def check_destination(
    migration_context: MigrationContext, script: ScriptDirectory, *, upgrade: bool
) -> None:
    """Refuse, before the first step, a move the command should not make.

    The destination is the ``destination_rev`` that Alembic's commands (and
    pytest-alembic) hand the environment; commands that move nothing
    (``check``, ``current``) have none, and ``stamp`` runs no revision.  From
    the current revision, the destination gives the revisions a downgrade
    would undo (:func:`scripts_to_undo`).  Then:

    - an upgrade (``upgrade=True``: :func:`upgrade` says so through
      :data:`UPGRADE_ATTRIBUTE`) that would undo any raises
      :class:`~heroes_sa.errors.WrongRevisionError`: the target is below the
      current revision, where Alembic's upgrade would silently do nothing;
    - otherwise the ``check_downgrade(bind)`` of every revision to undo runs,
      newest first.  Each revision defines one beside ``downgrade()``
      (``script.py.mako`` writes it; docs/MIGRATIONS.md, "Writing a
      revision"), raising :class:`~heroes_sa.errors.MigrationRefusedError` for
      data its ``downgrade()`` cannot carry.  Running all of them first means a
      refusal leaves the database untouched even where DDL commits at once
      (MariaDB), however many revisions the downgrade crosses.
    """
    destination = migration_context.opts.get("destination_rev")
    if not isinstance(destination, str):
        return
    bind = migration_context.bind
    assert bind is not None, "env.py checks online migrations only"
    current = migration_context.get_current_heads()
    undone = scripts_to_undo(script, current, destination)
    if undone and upgrade:
        raise WrongRevisionError(
            f"cannot upgrade to {destination}: it is below the database's revision"
            f" {', '.join(current)}; use downgrade to go down"
        )
    for revision in undone:
        revision.module.check_downgrade(bind)


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[None]:
    """The transaction a migration runs in, committed only if it all succeeds.

    A Connection with no transaction begun gets one of its own, committed at
    the end; one already in a transaction or a savepoint is migrated inside
    it, and the caller commits or rolls back.

    On SQLite, foreign keys stay enforced throughout, so a statement that
    would violate one fails at once.  SQLite's procedure for table rebuilds
    (https://www.sqlite.org/lang_altertable.html, "Making Other Kinds Of Table
    Schema Changes") switches enforcement off because ``DROP TABLE`` first
    deletes every row, which fails while other rows reference them; switching
    it is only possible outside a transaction.  heroes_sa's revisions instead
    rebuild a table only while no rows reference it (docs/MIGRATIONS.md,
    "Writing a revision"), which is what lets a migration join the caller's
    transaction or savepoint.

    A transaction of its own begins ``IMMEDIATE`` on SQLite: it holds the
    write lock before Alembic reads the current revision, so of two
    migrations started together one waits for the other and then finds its
    work done.  If the lock does not come within the busy timeout,
    :class:`MigrationError` says so, with nothing changed.  A migration that
    wrote to a database file leaves it in write-ahead logging mode (see
    :mod:`heroes_sa.engine`).
    """
    if connection.dialect.name == "sqlite" and not has_sqlite_hooks(connection):
        raise MigrationError(
            "this SQLite engine commits DDL on its own, so a failed migration would be"
            " left half-applied; create it with heroes_sa.create_engine() or call"
            " heroes_sa.engine.install_sqlite_hooks() on it"
        )
    if connection.in_transaction():
        yield
        return
    if connection.dialect.name != "sqlite":
        with connection.begin():
            yield
        return
    driver = connection.connection.dbapi_connection
    changes = sqlite_pragma(driver, "SELECT total_changes()")
    with sqlite_begin(connection, "IMMEDIATE"):
        transaction = _begin_waiting(connection)
    with transaction:
        yield
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
