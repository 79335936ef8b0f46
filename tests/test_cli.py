"""``heroes-sa demo``: the tutorial's output, and refusals that write nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.cli import describe_failure, fail, main
from heroes_sa.demo import DEMOS
from heroes_sa.engine import URL_ENV_VAR
from tests.migration_helpers import rows, schema_snapshot
from tests.test_many_to_many import M2M_LINES


def test_many_to_many_demo_prints_the_tutorial_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "many-to-many"]) == 0
    assert capsys.readouterr().out.splitlines() == M2M_LINES


def test_one_to_many_demo_ends_with_the_new_preventers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "one-to-many"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8
    assert lines[3] == (
        "Updated hero: Hero(id=3, name='Spider-Boy', secret_name='Pedro Parqueador',"
        " age=None, team_id=2)"
    )


def test_echo_shows_the_sql_log(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "many-to-many", "--echo"]) == 0
    out = capsys.readouterr().out
    assert "INSERT INTO heroteamlink (team_id, hero_id) VALUES (?, ?)" in out
    assert "FROM team, heroteamlink" in out
    assert out.index("INSERT INTO heroteamlink") < out.index("Deadpond teams:")


def test_demo_migrates_an_empty_database_file_and_refuses_a_second_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "many-to-many", "--db", url]) == 0
    capsys.readouterr()
    engine = heroes_sa.create_engine(url)
    before = rows(engine, "hero"), rows(engine, "heroteamlink")

    assert main(["demo", "many-to-many", "--db", url]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "heroes-sa: error: the database already holds 3 heroes; the demo only writes into"
        " an empty one"
    )
    assert (rows(engine, "hero"), rows(engine, "heroteamlink")) == before
    engine.dispose()


def test_demo_refuses_a_database_at_another_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    before = schema_snapshot(engine)

    assert main(["demo", "many-to-many", "--db", url]) == 1
    err = capsys.readouterr().err
    assert f"at revision {one_to_many.REVISION}, this demo needs {many_to_many.REVISION}" in err
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    assert schema_snapshot(engine) == before
    engine.dispose()


def test_demo_refuses_tables_without_a_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'sqlmodel.db'}"
    engine = heroes_sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE hero (id INTEGER PRIMARY KEY)")
    assert main(["demo", "one-to-many", "--db", url]) == 1
    assert "no Alembic revision" in capsys.readouterr().err
    assert sa.inspect(engine).get_table_names() == ["hero"]
    engine.dispose()


def test_a_missing_driver_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+nosuchdriver://hero:s3cr3t-pw@127.0.0.1:1/heroes"
    assert main(["demo", "many-to-many", "--db", url]) == 1
    captured = capsys.readouterr()
    assert "s3cr3t-pw" not in captured.out + captured.err
    assert captured.err.startswith("heroes-sa: error: ")
    assert "nosuchdriver" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_an_operational_error_names_host_and_port_not_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = sa.make_url("postgresql://hero:s3cr3t-pw@db.example:5433/heroes")
    error = sa.exc.OperationalError(
        "SELECT 1", {}, Exception("connection refused for hero:s3cr3t-pw\nmore detail")
    )
    assert fail(describe_failure(error, url)) == 1
    assert capsys.readouterr().err == (
        "heroes-sa: error: cannot use the database at db.example:5433:"
        " Exception (its message repeats the password, so it is not shown)\n"
    )


def test_a_sqlite_file_that_cannot_be_opened_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}"
    assert main(["demo", "many-to-many", "--db", url]) == 1
    err = capsys.readouterr().err
    assert "unable to open database file" in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "heroes_sa", "demo", "many-to-many"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == M2M_LINES
    assert not (tmp_path / "database.db").exists(), "the default demo database is in memory"


def test_an_unknown_demo_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "three-to-many"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'three-to-many'" in capsys.readouterr().err


def test_demo_models_match_the_modules() -> None:
    assert DEMOS["many-to-many"][0] == many_to_many.REVISION
    assert DEMOS["one-to-many"][0] == one_to_many.REVISION
    assert DEMOS["link-model"][0] == link_model.REVISION


def test_the_environment_names_the_demo_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv(URL_ENV_VAR, url)
    assert main(["demo", "one-to-many"]) == 0
    engine = heroes_sa.create_engine(url)
    assert len(rows(engine, "hero")) == 8
    engine.dispose()
    # --db still wins over the environment.
    assert main(["demo", "one-to-many", "--db", "sqlite://"]) == 0
    assert capsys.readouterr().err == ""
