"""Reading never writes: a database that is only opened, read or refused stays byte-identical.

Connecting used to switch every file to write-ahead logging, which rewrites
the file's header: a database the demo refused was modified, a corrupted file
given as ``--db`` was modified, and a read-only file in rollback-journal mode
could not be read at all.  Now only what writes on purpose (a migration that
applies a step) sets WAL.

Read-only files are opened here with SQLite's own ``mode=ro`` and
``immutable=1`` URI parameters: the suite runs as root on CI, where file
permissions do not stop writes, and ``mode=ro`` is the same read-only open
SQLite falls back to when permissions deny writing.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.cli import main
from heroes_sa.engine import URL_ENV_VAR
from heroes_sa.errors import MigrationRefusedError

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.backends(
    "sqlite", reason="these tests are about SQLite files, made here whatever the backend"
)


def migrated_file(path: Path, journal: str, revision: str = "head") -> Path:
    """A database file at ``revision``, left in journal mode ``journal``."""
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    heroes_sa.upgrade(engine, revision)
    engine.dispose()
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute(f"PRAGMA journal_mode={journal}").fetchone() == (journal,)
    return path


def snapshot(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes, and what lies beside it (no -wal or -journal left behind)."""
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_current_revision_leaves_the_file_byte_identical(tmp_path: Path, journal: str) -> None:
    path = migrated_file(tmp_path / "heroes.db", journal)
    before = snapshot(path)
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    with Session(engine) as session:
        assert session.scalars(sa.select(many_to_many.Hero)).all() == []
    engine.dispose()
    assert snapshot(path) == before


@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("read_only", ["mode=ro", "immutable=1"])
def test_a_read_only_file_can_be_read(tmp_path: Path, journal: str, read_only: str) -> None:
    path = migrated_file(tmp_path / "heroes.db", journal)
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("INSERT INTO team (name, headquarters) VALUES ('Preventers', 'Sharp Tower')")
    before = path.read_bytes()
    engine = heroes_sa.create_engine(f"sqlite:///file:{path}?{read_only}&uri=true")
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    with Session(engine) as session:
        # The default transaction (BEGIN IMMEDIATE) is fine on a file that cannot
        # be written: SQLite refuses only an actual write.
        assert session.scalars(sa.select(many_to_many.Team.name)).all() == ["Preventers"]
        session.add(many_to_many.Team(name="Z-Force", headquarters="Bar"))
        with pytest.raises(sa.exc.OperationalError, match="readonly database"):
            session.commit()
    engine.dispose()
    assert path.read_bytes() == before


def in_rollback_journal_mode(path: Path) -> None:
    """The journal mode of a file SQLModel or plain sqlite3 made: what WAL would rewrite."""
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)


def with_heroes(path: Path) -> None:
    assert main(["demo", "many-to-many", "--db", f"sqlite:///{path}"]) == 0
    in_rollback_journal_mode(path)


def at_another_revision(path: Path) -> None:
    migrated_file(path, "delete", one_to_many.REVISION)


def with_foreign_tables(path: Path) -> None:
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("CREATE TABLE hero (id INTEGER PRIMARY KEY, name TEXT)")


def corrupted(path: Path) -> None:
    """A sound header (page size, journal mode) over pages of noise."""
    migrated_file(path, "delete")
    page = 4096
    data = path.read_bytes()
    path.write_bytes(data[:100] + os.urandom(len(data) - 100 + page))


@pytest.mark.parametrize(
    "make",
    [with_heroes, at_another_revision, with_foreign_tables, corrupted],
    ids=lambda f: f.__name__,
)
def test_a_database_the_demo_refuses_is_left_byte_identical(
    tmp_path: Path, make: Callable[[Path], None], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "heroes.db"
    make(path)
    before = snapshot(path)
    capsys.readouterr()
    assert main(["demo", "many-to-many", "--db", f"sqlite:///{path}"]) == 1
    assert capsys.readouterr().err.startswith("heroes-sa: error: ")
    assert snapshot(path) == before


@pytest.mark.parametrize("make", [with_heroes, with_foreign_tables], ids=lambda f: f.__name__)
def test_the_demo_refuses_a_database_while_another_connection_writes(
    tmp_path: Path, make: Callable[[Path], None], capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo's checks only read (:func:`heroes_sa.engine.reading`), so a writer holds none up.

    Begun ``IMMEDIATE``, they would wait for the writer's lock for the busy
    timeout and then fail with "database is locked" instead of saying why
    the demo refuses the database.
    """
    path = tmp_path / "heroes.db"
    make(path)
    capsys.readouterr()
    with closing(sqlite3.connect(path, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        assert main(["demo", "many-to-many", "--db", f"sqlite:///{path}"]) == 1
        writer.execute("ROLLBACK")
    err = capsys.readouterr().err
    assert err.startswith("heroes-sa: error: the database "), err
    assert "locked" not in err


def test_a_refused_downgrade_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "heroes.db"
    with_heroes(path)  # Deadpond is in two teams
    before = snapshot(path)
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    with pytest.raises(MigrationRefusedError, match="Deadpond"):
        heroes_sa.downgrade(engine, one_to_many.REVISION)
    engine.dispose()
    assert snapshot(path) == before


def test_a_refused_upgrade_leaves_the_file_byte_identical(tmp_path: Path) -> None:
    path = migrated_file(tmp_path / "heroes.db", "delete", one_to_many.REVISION)
    with closing(sqlite3.connect(path)) as raw, raw:  # plain sqlite3 enforces no keys
        raw.execute("INSERT INTO hero (name, secret_name, team_id) VALUES ('Dr. Weird', 's', 99)")
    before = snapshot(path)
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    with pytest.raises(MigrationRefusedError, match="team_id 99"):
        heroes_sa.upgrade(engine)
    engine.dispose()
    assert snapshot(path) == before


def alembic(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``alembic`` CLI of the checkout, on the database file ``path``."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env={**os.environ, URL_ENV_VAR: f"sqlite:///{path}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [["current"], ["check"]])
def test_alembic_commands_that_only_read_leave_the_file_byte_identical(
    tmp_path: Path, command: list[str]
) -> None:
    path = migrated_file(tmp_path / "heroes.db", "delete")
    before = snapshot(path)
    done = alembic(path, *command)
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot(path) == before


def test_alembic_is_told_that_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    """Its log said "non-transactional", twice, although the engine makes DDL transactional."""
    done = alembic(tmp_path / "heroes.db", "upgrade", "head")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.count("Will assume transactional DDL.") >= 1
    assert "non-transactional" not in done.stderr
