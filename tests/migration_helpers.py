"""Helpers the migration tests share: schema diffs, row dumps, unchecked writes.

Each migration test gets a new, empty database on the backend under test from
:func:`heroes_sa.testing.scratch_database` (the ``engine`` fixture of
tests/test_migrations.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, Executable, MetaData, Table, inspect, select
from sqlalchemy.engine import URL

from heroes_sa.testing.databases import backend_of, scratch_database

# Statements that switch foreign key enforcement off for the rest of the
# transaction (PostgreSQL: triggers, which enforce the keys, stop firing;
# a superuser may do so) or the session (MySQL).
_UNCHECKED = {
    "postgresql": "SET LOCAL session_replication_role = replica",
    "mysql": "SET SESSION foreign_key_checks = 0",
}
_CHECKED = {"mysql": "SET SESSION foreign_key_checks = 1"}


def schema_diff(engine: Engine, metadata: MetaData) -> list[Any]:
    """What autogenerate would change to make the database match ``metadata``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff: list[Any] = compare_metadata(context, metadata)
        return diff


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the inspector says about every table, for before/after equality."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table),
                "fks": inspector.get_foreign_keys(table),
                "indexes": sorted(inspector.get_indexes(table), key=lambda i: str(i["name"])),
            }
            for table in sorted(inspector.get_table_names())
        }


def rows(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    """All rows of ``table`` as it is in the database now, by its first two columns."""
    with engine.connect() as connection:
        reflected = Table(table, MetaData(), autoload_with=connection)
        first_two = list(reflected.columns)[:2]
        return [tuple(r) for r in connection.execute(select(reflected).order_by(*first_two))]


def set_foreign_keys(connection: Connection, enabled: bool) -> None:
    """Switch SQLite enforcement on ``connection`` outside any transaction.

    Straight to the driver: through SQLAlchemy the pragma would start a
    transaction, inside which SQLite ignores it.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=ON" if enabled else "PRAGMA foreign_keys=OFF")


def execute_unchecked(engine: Engine, statement: Executable) -> None:
    """Run ``statement`` with foreign keys unenforced, and commit it.

    How a database comes to hold rows its keys forbid: SQLite never checked,
    a dump loaded with checks off.  Enforcement is back on afterwards.
    """
    backend = backend_of(engine.url)
    with engine.connect() as connection:
        if backend == "sqlite":
            set_foreign_keys(connection, False)
        with connection.begin():
            if backend in _UNCHECKED:
                connection.exec_driver_sql(_UNCHECKED[backend])
            connection.execute(statement)
            if backend in _CHECKED:
                connection.exec_driver_sql(_CHECKED[backend])
        if backend == "sqlite":
            set_foreign_keys(connection, True)


@contextmanager
def empty_database_url(server: URL | None, directory: Path) -> Iterator[str]:
    """A URL naming a new, empty database, for a command in the shell to open.

    A SQLite file in ``directory`` (not created yet) when the run is on SQLite,
    else a namespace of its own on the ``server`` under test.
    """
    if server is None or backend_of(server) == "sqlite":
        yield f"sqlite:///{directory / 'shell.db'}"
        return
    with scratch_database(server) as engine:
        yield engine.url.render_as_string(hide_password=False)


#: What Alembic logs, in the alembic CLI's format, for each step from base to head.
RUNNING_UPGRADES = [
    "INFO  [alembic.runtime.migration] Running upgrade  -> 0001_one_to_many, Create the"
    " one-to-many schema: team, and hero with a team_id.",
    "INFO  [alembic.runtime.migration] Running upgrade 0001_one_to_many -> 0002_many_to_many,"
    " Turn one-to-many into many-to-many: heroteamlink replaces hero.team_id.",
    "INFO  [alembic.runtime.migration] Running upgrade 0002_many_to_many ->"
    " 0003_link_hero_id_index, Index heroteamlink.hero_id, so a hero's teams are found"
    " without a scan.",
    "INFO  [alembic.runtime.migration] Running upgrade 0003_link_hero_id_index ->"
    " 0004_link_is_training, Give each membership an is_training flag: the tutorial's link"
    " model with extra fields.",
]

#: ``heroes-sa db history`` (and ``alembic history``): the revisions, newest first.
HISTORY = [
    "0003_link_hero_id_index -> 0004_link_is_training (head), Give each membership an"
    " is_training flag: the tutorial's link model with extra fields.",
    "0002_many_to_many -> 0003_link_hero_id_index, Index heroteamlink.hero_id, so a"
    " hero's teams are found without a scan.",
    "0001_one_to_many -> 0002_many_to_many, Turn one-to-many into many-to-many: heroteamlink"
    " replaces hero.team_id.",
    "<base> -> 0001_one_to_many, Create the one-to-many schema: team, and hero with a team_id.",
]


def alembic_log(stderr: str) -> list[str]:
    """The "Running ..." lines of Alembic's log in ``stderr``, each checked for the CLI's format.

    heroes-sa's own error line is left out.
    """
    lines = [line for line in stderr.splitlines() if not line.startswith("heroes-sa: ")]
    for line in lines:
        assert re.fullmatch(r"(INFO |WARNI|ERROR) \[alembic[.\w]*\] .+", line), line
    return [line for line in lines if "] Running " in line]
