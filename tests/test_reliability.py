"""Faults and load on a SQLite file: killed processes, concurrent writers.

Marked ``slow``: a quick local run skips them with ``-m "not slow"``; CI runs
them.  Each is bounded in time.
"""

from __future__ import annotations

import ast
import os
import signal
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from multiprocessing import get_context
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import many_to_many, one_to_many
from heroes_sa.many_to_many import Team
from tests.workers import WorkerLog, load_worker

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
            assert revision == many_to_many.REVISION
            links = raw.execute("SELECT hero_id, team_id FROM heroteamlink ORDER BY hero_id")
            assert links.fetchall() == [(i, t) for i, t in before if t is not None]
    # Whatever the outcome, foreign keys are back on for the next connection.
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def compare_with_logs(url: str, logs: list[WorkerLog]) -> None:
    expected: dict[str, set[str]] = {}
    for log in logs:
        expected.update(log.heroes)
    engine = heroes_sa.create_engine(url)
    with Session(engine) as session:
        found = {
            hero.name: {team.name for team in hero.teams}
            for hero in session.scalars(sa.select(many_to_many.Hero))
        }
    engine.dispose()
    assert found == expected


def test_threads_and_processes_writing_at_once_lose_nothing(
    head_file: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seconds = 4.0
    started = time.monotonic()
    with (
        ThreadPoolExecutor(3) as threads,
        ProcessPoolExecutor(2, mp_context=get_context("spawn")) as processes,
    ):
        futures = [
            threads.submit(load_worker, head_file, f"thread{i}", seconds, i) for i in range(3)
        ] + [
            processes.submit(load_worker, head_file, f"process{i}", seconds, 10 + i)
            for i in range(2)
        ]
        logs = [f.result(timeout=120) for f in futures]
    elapsed = time.monotonic() - started

    assert [log.errors for log in logs] == [[]] * 5, "writers must wait, not fail"
    assert all(log.commits > 0 for log in logs)
    compare_with_logs(head_file, logs)
    check_file(Path(head_file.removeprefix("sqlite:///"))).close()
    with capsys.disabled():
        commits = sum(log.commits for log in logs)
        print(
            f"\n[load] sqlite file: {commits} commits by 5 writers in {elapsed:.1f}s"
            f" = {commits / elapsed:.0f} commits/s"
        )


SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany"}


def formatted_sql_calls(path: Path) -> list[str]:
    """Calls whose SQL argument is built by f-string, % or .format()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        sql = node.args[0]
        built = (
            isinstance(sql, ast.JoinedStr)
            or (isinstance(sql, ast.BinOp) and isinstance(sql.op, (ast.Mod, ast.Add)))
            or (
                isinstance(sql, ast.Call)
                and isinstance(sql.func, ast.Attribute)
                and sql.func.attr == "format"
            )
        )
        if name in SQL_CALLS and built:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


@pytest.mark.parametrize("folder", ["heroes_sa", "migrations"])
def test_no_sql_is_built_by_string_formatting(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files
    assert [hit for path in files for hit in formatted_sql_calls(path)] == []


def test_the_formatting_detector_finds_what_it_looks_for() -> None:
    bad = ROOT / "tests" / "_bad_sql_example.py"
    bad.write_text('c.exec_driver_sql(f"SELECT {x}")\ntext("a" + b)\nc.execute("%s" % x)\n')
    try:
        assert len(formatted_sql_calls(bad)) == 3
    finally:
        os.remove(bad)
