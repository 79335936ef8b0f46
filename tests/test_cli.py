"""``heroes-sa``: the demo's output, ``heroes-sa db`` on real databases, refusals.

The same ``db`` commands run from an installed wheel in tests/test_distribution.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.cli import describe_failure, fail, main
from heroes_sa.demo import DEMOS
from heroes_sa.engine import URL_ENV_VAR
from tests.migration_helpers import (
    HISTORY,
    RUNNING_UPGRADES,
    alembic_log,
    empty_database_url,
    rows,
    schema_snapshot,
)
from tests.test_adopt import make_sqlmodel_database
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
    assert DEMOS["many-to-many"].revision == many_to_many.REVISION
    assert DEMOS["one-to-many"].revision == one_to_many.REVISION
    assert DEMOS["link-model"].revision == link_model.REVISION


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


# --- heroes-sa db -------------------------------------------------------------


@pytest.fixture
def db_url(heroes_db_url: URL | None, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the backend under test, as a URL to give ``--db``."""
    with empty_database_url(heroes_db_url, tmp_path) as url:
        yield url


def db(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``heroes-sa db ARGS``: (exit status, stdout, stderr)."""
    status = main(["db", *args])
    out, err = capsys.readouterr()
    return status, out, err


def error_line(err: str) -> str:
    """The one line heroes-sa's error is, after Alembic's log lines."""
    errors = [line for line in err.splitlines() if not line.startswith("INFO  [alembic")]
    assert len(errors) == 1, err
    assert errors[0].startswith("heroes-sa: error: ")
    return errors[0]


def test_db_upgrade_current_history_and_check_on_a_fresh_database(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert db(capsys, "upgrade", "--db", db_url)[:2] == (0, "")
    engine = heroes_sa.create_engine(db_url)
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()
    assert db(capsys, "current", "--db", db_url)[:2] == (0, f"{link_model.REVISION} (head)\n")
    status, out, _ = db(capsys, "history", "--indicate-current", "--db", db_url)
    assert status == 0
    assert out.splitlines() == [
        HISTORY[0].replace("(head)", "(head) (current)"),
        *HISTORY[1:],
    ]
    assert db(capsys, "check", "--db", db_url)[:2] == (0, "No new upgrade operations detected.\n")
    # At head already: nothing runs, nothing is said but Alembic's preamble.
    status, out, err = db(capsys, "upgrade", "--db", db_url)
    assert (status, out, alembic_log(err)) == (0, "", [])


def test_db_upgrade_shows_alembics_running_lines_as_the_alembic_cli_does(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = db(capsys, "upgrade", "--db", db_url)
    assert (status, out) == (0, "")
    assert alembic_log(err) == RUNNING_UPGRADES


def seed_deadpond_in_two_teams(url: str) -> None:
    engine = heroes_sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(many_to_many.Team),
            [{"name": "A", "headquarters": "a"}, {"name": "B", "headquarters": "b"}],
        )
        connection.execute(sa.insert(many_to_many.Hero).values(name="Deadpond", secret_name="D"))
        connection.execute(
            sa.insert(many_to_many.HeroTeamLink),
            [{"team_id": 1, "hero_id": 1}, {"team_id": 2, "hero_id": 1}],
        )
    engine.dispose()


def test_db_refusals_are_one_line_and_change_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db(capsys, "upgrade", "--db", db_url)
    seed_deadpond_in_two_teams(db_url)
    engine = heroes_sa.create_engine(db_url)
    before = schema_snapshot(engine), rows(engine, "heroteamlink")

    status, out, err = db(capsys, "downgrade", one_to_many.REVISION, "--db", db_url)
    assert (status, out) == (1, "")
    assert error_line(err) == (
        "heroes-sa: error: cannot downgrade below 0002_many_to_many: hero.team_id holds one"
        " team per hero, and these heroes are in more: hero 1 'Deadpond' (2 teams)"
    )
    assert alembic_log(err) == [], "refused before the first step"
    status, _, err = db(capsys, "upgrade", one_to_many.REVISION, "--db", db_url)
    assert status == 1
    assert error_line(err) == (
        f"heroes-sa: error: cannot upgrade to {one_to_many.REVISION}: it is below the"
        f" database's revision {link_model.REVISION}; use downgrade to go down"
    )
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    assert (schema_snapshot(engine), rows(engine, "heroteamlink")) == before
    engine.dispose()


def test_db_downgrade_stamp_and_check_finds_the_drift(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db(capsys, "upgrade", "--db", db_url)
    status, _, err = db(capsys, "downgrade", "-1", "--db", db_url)
    assert status == 0
    assert alembic_log(err) == [
        "INFO  [alembic.runtime.migration] Running downgrade 0004_link_is_training ->"
        " 0003_link_hero_id_index, Give each membership an is_training flag: the tutorial's"
        " link model with extra fields."
    ]
    assert db(capsys, "current", "--db", db_url)[1] == "0003_link_hero_id_index\n"
    # Stamped at head without 0004's column: the schema no longer matches head's models.
    status, _, err = db(capsys, "stamp", "head", "--db", db_url)
    assert status == 0
    assert alembic_log(err) == [
        "INFO  [alembic.runtime.migration] Running stamp_revision 0003_link_hero_id_index ->"
        " 0004_link_is_training"
    ]
    status, out, err = db(capsys, "check", "--db", db_url)
    assert (status, out) == (1, "")
    assert error_line(err).startswith(
        "heroes-sa: error: New upgrade operations detected: [('add_column', None,"
        " 'heroteamlink', Column('is_training'"
    )


@pytest.mark.backends("sqlite", reason="the SQLModel database adopted is a SQLite file")
def test_db_stamp_adopts_a_sqlmodel_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "database.db"
    make_sqlmodel_database(path)
    url = f"sqlite:///{path}"
    assert db(capsys, "stamp", one_to_many.REVISION, "--db", url)[0] == 0
    status, _, err = db(capsys, "upgrade", "--db", url)
    assert status == 0
    assert alembic_log(err) == RUNNING_UPGRADES[1:]
    assert db(capsys, "check", "--db", url)[:2] == (0, "No new upgrade operations detected.\n")
    engine = heroes_sa.create_engine(url)
    assert len(rows(engine, "heroteamlink")) == 6
    engine.dispose()


@pytest.mark.parametrize(
    "args",
    [["current"], ["check"], ["stamp", "head"], ["downgrade", "base"], ["history", "-i"]],
    ids=" ".join,
)
def test_db_commands_other_than_upgrade_do_not_create_a_missing_sqlite_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    path = tmp_path / "typo.db"
    status, out, err = db(capsys, *args, "--db", f"sqlite:///{path}")
    assert (status, out) == (1, "")
    assert (
        err == f"heroes-sa: error: no SQLite database at {path}; heroes-sa db upgrade creates one\n"
    )
    assert not path.exists()


def test_db_reads_an_in_memory_database_without_asking_for_a_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh private database: no revision, so current prints nothing, as Alembic's does."""
    assert db(capsys, "current", "--db", "sqlite://")[:2] == (0, "")


def test_db_uses_the_environment_else_database_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(URL_ENV_VAR, f"sqlite:///{tmp_path / 'env.db'}")
    assert db(capsys, "upgrade", one_to_many.REVISION)[0] == 0
    assert db(capsys, "current")[1] == f"{one_to_many.REVISION}\n"
    assert not (tmp_path / "database.db").exists()
    # --db wins over the environment.
    assert db(capsys, "upgrade", "--db", "sqlite:///other.db")[0] == 0
    assert db(capsys, "current")[1] == f"{one_to_many.REVISION}\n"
    monkeypatch.delenv(URL_ENV_VAR)
    assert db(capsys, "upgrade")[0] == 0
    assert db(capsys, "current")[1] == f"{link_model.REVISION} (head)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["database.db", "env.db", "other.db"]


def test_db_history_reads_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    status, out, err = db(capsys, "history")
    assert (status, out.splitlines(), err) == (0, HISTORY, "")
    assert list(tmp_path.iterdir()) == []


def test_db_an_unreachable_server_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg://hero:s3cr3t-pw@127.0.0.1:1/heroes"
    status, out, err = db(capsys, "current", "--db", url)
    assert (status, out) == (1, "")
    assert "s3cr3t-pw" not in err
    assert error_line(err).startswith("heroes-sa: error: cannot use the database at 127.0.0.1:1: ")


def test_db_a_malformed_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = db(capsys, "current", "--db", "not a url")
    assert status == 2
    assert err.startswith("heroes-sa: error: --db is not a database URL: ")


@pytest.mark.backends(
    "sqlite", reason="aiosqlite is the async driver the test extra installs for files"
)
def test_db_runs_through_an_async_driver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'async.db'}"
    status, _, err = db(capsys, "upgrade", "--db", url)
    assert (status, alembic_log(err)) == (0, RUNNING_UPGRADES)
    assert db(capsys, "current", "--db", url)[1] == f"{link_model.REVISION} (head)\n"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"heroes-sa {version('heroes_sa')}\n"
