"""Faults and load: killed processes, concurrent writers, on SQLite files and servers.

Marked ``slow``: a quick local run skips them with ``-m "not slow"``; CI runs
them.  Each is bounded in time.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from importlib.util import find_spec
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

import heroes_sa
from bench import concurrency
from heroes_sa import link_model, one_to_many
from heroes_sa.engine import URL_ENV_VAR
from heroes_sa.many_to_many import Hero, Team

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.backends(
        "sqlite", reason="these tests run on SQLite files of their own whatever the backend"
    ),
]


def check_file(path: Path) -> sqlite3.Connection:
    """Open ``path`` with plain sqlite3 and assert it is sound."""
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    return raw


@pytest.fixture
def head_file(tmp_path: Path) -> str:
    """A database file at head with 50 teams."""
    url = f"sqlite:///{tmp_path / 'heroes.db'}"
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine)
    with Session(engine) as session:
        session.add_all(Team(name=f"team-{i}", headquarters="hq") for i in range(50))
        session.commit()
    engine.dispose()
    return url


def kill_after(marker: str, delay: float, *args: str) -> None:
    """Run a worker, wait for it to print ``marker``, SIGKILL it ``delay`` s later."""
    with subprocess.Popen(
        [sys.executable, "-m", "tests.workers", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as worker:
        assert worker.stdout is not None
        line = worker.stdout.readline().strip()
        assert line == marker, f"worker said {line!r}"
        time.sleep(delay)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.5, 1.0, 3.0])
def test_a_commit_killed_at_any_moment_is_all_or_nothing(head_file: str, delay: float) -> None:
    batch = 3000
    kill_after("FLUSHING", delay, "commit", head_file, str(batch))

    with closing(check_file(Path(head_file.removeprefix("sqlite:///")))) as raw:
        heroes = raw.execute("SELECT count(*) FROM hero").fetchone()
        links = raw.execute("SELECT count(*) FROM heroteamlink").fetchone()
    assert (heroes, links) in {((0,), (0,)), ((batch,), (2 * batch,))}


def seed_one_to_many_file(path: Path, heroes: int) -> None:
    """A first-revision database with ``heroes`` heroes, written fast with sqlite3."""
    url = f"sqlite:///{path}"
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    engine.dispose()
    raw = sqlite3.connect(path)
    with closing(raw), raw:
        raw.executemany(
            "INSERT INTO team (id, name, headquarters) VALUES (?, ?, 'hq')",
            [(i, f"team-{i}") for i in range(1, 51)],
        )
        raw.executemany(
            "INSERT INTO hero (name, secret_name, team_id) VALUES (?, 's', ?)",
            [(f"hero-{i}", (i % 50) + 1 if i % 7 else None) for i in range(heroes)],
        )


@pytest.mark.parametrize("delay", [0.0, 0.1, 0.3, 0.6, 1.2])
def test_a_migration_killed_at_any_moment_leaves_one_revision_or_the_other(
    tmp_path: Path, delay: float
) -> None:
    path = tmp_path / "old.db"
    seed_one_to_many_file(path, 60_000)
    with closing(sqlite3.connect(path)) as raw:
        before = raw.execute("SELECT id, team_id FROM hero ORDER BY id").fetchall()
    kill_after("MIGRATING", delay, "migrate", f"sqlite:///{path}")

    with closing(check_file(path)) as raw:
        (revision,) = raw.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if revision == one_to_many.REVISION:
            assert raw.execute("SELECT id, team_id FROM hero ORDER BY id").fetchall() == before
            assert "heroteamlink" not in tables
        else:
            assert revision == link_model.REVISION
            links = raw.execute("SELECT hero_id, team_id FROM heroteamlink ORDER BY hero_id")
            assert links.fetchall() == [(i, t) for i, t in before if t is not None]
    # Whatever the outcome, foreign keys are back on for the next connection.
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


# --- concurrency, with create_engine's defaults (bench/concurrency.py's workloads) ---


def test_threads_on_one_in_memory_engine_keep_every_commit_and_every_rollback() -> None:
    """4 threads x 50 sessions: commit, refresh, write again; every fifth rolls back.

    On one sqlite3 connection shared by every thread, commits that returned
    went missing, rolled-back rows stayed and the interpreter could crash.
    """
    outcome = concurrency.memory_threads(threads=4, sessions=50)
    assert outcome.errors == []
    assert outcome.commits == 4 * 40 * 2
    assert (outcome.lost, outcome.kept_after_rollback) == (0, 0)


@pytest.fixture
def writers_file(tmp_path: Path) -> str:
    """A database file at head with the workload's teams, migrated as a user would."""
    return concurrency.head_file(tmp_path / "writers.db")


def test_threads_and_processes_reading_then_writing_at_once_lose_nothing(
    writers_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """3 threads and 2 processes x 40 read-then-write transactions, started together.

    Each worker does a fixed amount of work after a shared barrier, so the
    assertions hold however the machine schedules them.  With transactions
    begun DEFERRED, most of these failed at once with "database is locked".
    """
    outcome = concurrency.concurrent_writers(writers_file, threads=3, processes=2, transactions=40)
    assert outcome.errors == [], "writers must wait for the lock, not fail"
    assert [len(log.heroes) > 0 for log in outcome.logs] == [True] * 5
    assert outcome.lost == 0, "the database must equal the union of what the workers committed"
    check_file(Path(writers_file.removeprefix("sqlite:///"))).close()
    with capsys.disabled():
        print(f"\n[load] {outcome.summary('file-writers')}")


@pytest.fixture(scope="module")
def old_file_with_100k_heroes(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[tuple[int, int]]]:
    """A 0001 file with 100k heroes, and its memberships, copied by each migration run."""
    path = tmp_path_factory.mktemp("old") / "old.db"
    return path, concurrency.one_to_many_file(path, 100_000)


@pytest.mark.parametrize("kind", sorted(concurrency.MIGRATORS))
def test_two_migrations_started_together_both_end_at_head_with_every_membership(
    old_file_with_100k_heroes: tuple[Path, list[tuple[int, int]]], kind: str
) -> None:
    template, memberships = old_file_with_100k_heroes
    for _ in range(2):
        run = concurrency.two_migrations(template, memberships, kind)
        assert run.revision == link_model.REVISION
        assert run.memberships_kept
        assert run.sound
        # One migrates; the other waits for the write lock, then finds head.
        assert run.returncodes == [0, 0], run.errors
        assert run.errors == [[], []]


# --- the same faults and load on a server -----------------------------------------------

# For the tests below, in place of the module's SQLite mark.
on_postgresql = pytest.mark.backends(
    "postgresql", reason="pg_terminate_backend cuts a connection off from the server's side"
)
on_a_server = pytest.mark.backends("postgresql", "mysql", reason="needs a database server to load")


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    """A scratch database at head with 50 teams, on the server under test."""
    heroes_sa.upgrade(engine)
    with Session(engine) as session:
        session.add_all(Team(name=f"team-{i}", headquarters="hq") for i in range(50))
        session.commit()
    return engine


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@on_postgresql
def test_a_connection_killed_mid_transaction_commits_nothing_and_the_next_session_works(
    migrated: Engine,
) -> None:
    own = heroes_sa.create_engine(url_of(migrated))
    with Session(own) as session:
        teams = session.scalars(sa.select(Team)).all()
        session.add_all(
            Hero(name=f"lost-{i}", secret_name="s", teams=teams[:2]) for i in range(100)
        )
        session.flush()
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with migrated.connect() as killer:
            killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as lost:
            session.commit()
        assert lost.value.connection_invalidated
        session.rollback()

    # The pool still holds connections the server has dropped; pre-ping finds out.
    with Session(own) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Hero)) == 0
        session.add(
            Hero(name="after", secret_name="s", teams=[session.scalars(sa.select(Team)).first()])
        )
        session.commit()
    with migrated.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Hero)) == 1
    own.dispose()


@on_postgresql
def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(migrated: Engine) -> None:
    own = heroes_sa.create_engine(url_of(migrated), pool_size=1, max_overflow=0)
    with own.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with migrated.connect() as killer:
        killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # Without pool_pre_ping this would raise "server closed the connection".
    with own.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    own.dispose()


@on_a_server
def test_threads_and_processes_writing_at_once_lose_nothing(
    migrated: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SQLite file workload above, on the server."""
    outcome = concurrency.concurrent_writers(
        url_of(migrated), threads=3, processes=2, transactions=40
    )
    assert outcome.errors == []
    assert outcome.lost == 0
    with capsys.disabled():
        print(f"\n[load] {migrated.dialect.name}: {outcome.summary('writers')}")


def hold_the_write_lock(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection holding ``path``'s write lock, a row written."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("BEGIN IMMEDIATE")
    raw.execute("INSERT INTO team (name, headquarters) VALUES ('Held', 'hq')")
    return raw


def migrator(path: Path, *args: str) -> subprocess.Popen[str]:
    """``alembic upgrade head`` on ``path`` from the checkout (alembic.ini)."""
    env = {**os.environ, URL_ENV_VAR: f"sqlite:///{path}{''.join(args)}"}
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # Alembic prints FAILED: on stdout, its log on stderr
        text=True,
    )


def test_a_migration_waits_for_a_writer_that_holds_the_lock(tmp_path: Path) -> None:
    """Begun DEFERRED, the migration read the revision, then failed to write."""
    path = tmp_path / "held.db"
    concurrency.one_to_many_file(path, 1_000)
    raw = hold_the_write_lock(path)
    child = migrator(path)
    # Meanwhile the migrator starts and waits for the lock; begun DEFERRED, it
    # would read first and then fail to write once this commit made it stale.
    time.sleep(2.5)
    raw.execute("COMMIT")
    raw.close()
    output, _ = child.communicate(timeout=120)
    assert child.returncode == 0, output
    with closing(check_file(path)) as check:
        assert check.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (link_model.REVISION,)
        ]
        assert check.execute("SELECT count(*) FROM team WHERE name = 'Held'").fetchone() == (1,)


def test_a_lock_held_past_the_timeout_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    concurrency.one_to_many_file(path, 1_000)
    raw = hold_the_write_lock(path)
    try:
        child = migrator(path, "?timeout=0.5")  # the driver's busy timeout, from the URL
        output, _ = child.communicate(timeout=120)
    finally:
        raw.execute("ROLLBACK")
        raw.close()
    errors = [line for line in output.splitlines() if not concurrency.LOG_LINE.match(line)]
    assert child.returncode != 0  # Alembic's exit status for FAILED is 255
    assert errors == [
        "FAILED: the database is locked: another connection held its write lock for all of"
        " the 0.5 s this migration waited (the driver's timeout); nothing was changed, try"
        " again once the other writer has finished"
    ]
    with closing(check_file(path)) as check:
        assert check.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (one_to_many.REVISION,)
        ]


def test_a_reader_that_opts_out_does_not_wait_for_the_writer(writers_file: str) -> None:
    """A timeout of 0: waiting for the lock at all would fail at once."""
    path = Path(writers_file.removeprefix("sqlite:///"))
    raw = hold_the_write_lock(path)
    try:
        engine = heroes_sa.create_engine(writers_file, connect_args={"timeout": 0})
        assert heroes_sa.current_revision(engine) == link_model.REVISION
        deferred = engine.execution_options(sqlite_begin="DEFERRED")
        with Session(deferred) as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Team)) == concurrency.TEAMS
        with Session(engine) as session, pytest.raises(OperationalError, match="locked"):
            session.scalar(sa.select(sa.func.count()).select_from(Team))
        engine.dispose()
    finally:
        raw.execute("ROLLBACK")
        raw.close()


#: SQL built from a value, one line for each way of formatting a string and
#: each kind of statement: what ruff's S608 (selected in pyproject.toml) finds.
FORMATTED_SQL = """\
def build(name: str) -> list[str]:
    return [
        f"SELECT * FROM hero WHERE name = '{name}'",
        "INSERT INTO hero (name) VALUES ('%s')" % name,
        "UPDATE hero SET age = 1 WHERE name = '{}'".format(name),
        "DELETE FROM hero WHERE name = '" + name + "'",
    ]
"""
FORMATTED_LINES = [3, 4, 5, 6]

#: The same query with a bound parameter, as heroes_sa writes SQL text.
BOUND_SQL = """\
from sqlalchemy import Connection, text


def find(connection: Connection, name: str) -> object:
    return connection.execute(text("SELECT * FROM hero WHERE name = :name"), {"name": name})
"""


def test_ruff_with_the_projects_settings_refuses_sql_built_by_string_formatting(
    tmp_path: Path,
) -> None:
    """``ruff check .`` (a gate of .ci/run) is what keeps such SQL out of the code.

    Run with pyproject.toml's settings, so this fails if S608 is switched off there.
    """
    assert find_spec("ruff") is not None, "ruff (in heroes_sa's test extra) is not installed"
    (tmp_path / "formatted.py").write_text(FORMATTED_SQL)
    (tmp_path / "bound.py").write_text(BOUND_SQL)
    ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "json"]
    done = subprocess.run(
        [*ruff, "--config", str(ROOT / "pyproject.toml"), "formatted.py", "bound.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # 1: problems found; 2: ruff itself failed
    found = sorted(
        (Path(d["filename"]).name, d["location"]["row"], d["code"]) for d in json.loads(done.stdout)
    )
    flagged = [(file, row) for file, row, code in found if code == "S608"]
    assert flagged == [("formatted.py", row) for row in FORMATTED_LINES]
    assert [f for f in found if f[0] == "bound.py"] == [], "bound parameters pass every rule"
