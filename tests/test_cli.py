"""The heroes-sa command and the demo's database checks, and model reprs."""

from __future__ import annotations

import runpy
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import one_to_many
from heroes_sa.cli import main
from heroes_sa.many_to_many import Hero


def file_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'heroes.db'}"


def test_demo_prints_the_tutorial_lines() -> None:
    # A child process: demo.run writes to the sys.stdout of import time, which
    # under pytest is not the stream a capture fixture reads.
    done = subprocess.run(
        [sys.executable, "-m", "heroes_sa", "demo", "many-to-many"],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "Deadpond: Hero(id=1, name='Deadpond', secret_name='Dive Wilson', age=None)"
    assert len(lines) == 6


def test_demo_writes_the_tutorial_heroes(tmp_path: Path) -> None:
    url = file_url(tmp_path)
    assert main(["demo", "many-to-many", "--db", url]) == 0
    engine = heroes_sa.create_engine(url)
    with Session(engine) as session:
        heroes = session.scalars(select(Hero).order_by(Hero.id)).all()
        assert [(h.name, [t.name for t in h.teams]) for h in heroes] == [
            ("Deadpond", ["Z-Force", "Preventers"]),
            ("Rusty-Man", ["Preventers"]),
            ("Spider-Boy", ["Preventers"]),
        ]
    engine.dispose()


def test_demo_migrates_an_empty_file_then_refuses_to_write_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = file_url(tmp_path)
    assert main(["demo", "one-to-many", "--db", url]) == 0
    engine = heroes_sa.create_engine(url)
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    engine.dispose()
    capsys.readouterr()

    assert main(["demo", "one-to-many", "--db", url]) == 1
    assert capsys.readouterr().err == (
        "heroes-sa: error: the database already holds 8 heroes;"
        " the demo only writes into an empty one\n"
    )


def test_demo_refuses_a_database_at_another_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = file_url(tmp_path)
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    engine.dispose()
    assert main(["demo", "many-to-many", "--db", url]) == 1
    err = capsys.readouterr().err
    assert f"is at revision {one_to_many.REVISION}, this demo needs" in err


def test_demo_refuses_tables_without_a_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(tmp_path / "heroes.db") as connection:
        connection.execute("CREATE TABLE hero (id INTEGER PRIMARY KEY)")
    assert main(["demo", "many-to-many", "--db", file_url(tmp_path)]) == 1
    assert "has tables (hero) but no Alembic revision" in capsys.readouterr().err


def test_an_unusable_database_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'heroes.db'}"
    assert main(["demo", "many-to-many", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("heroes-sa: error: cannot use the database at ")
    assert err.endswith("unable to open database file\n")


def test_python_dash_m_runs_the_same_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["heroes_sa", "demo", "one-to-many"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("heroes_sa", run_name="__main__")
    assert exited.value.code == 0


def test_repr_shows_unloaded_and_uninitialized_objects(heroes_session: Session) -> None:
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    heroes_session.add(hero)
    heroes_session.commit()
    assert (
        repr(hero)
        == "Hero(id=<not loaded>, name=<not loaded>, secret_name=<not loaded>, age=<not loaded>)"
    )
    assert repr(Hero.__new__(Hero)) == "Hero(<uninitialized>)"
