"""The demo on every backend, over real server connections, and what users see when it fails."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

import heroes_sa
from heroes_sa import cli, many_to_many, one_to_many
from heroes_sa.cli import main
from heroes_sa.demo import run
from heroes_sa.errors import DatabaseNotEmptyError, WrongRevisionError
from heroes_sa.testing import scratch_database

PASSWORD = "s3cret-Pa55"

# A port nothing listens on: connecting is refused at once.
CLOSED = {
    "postgresql": f"postgresql+psycopg://hero:{PASSWORD}@127.0.0.1:1/heroes",
    "mysql": f"mysql+pymysql://hero:{PASSWORD}@127.0.0.1:1/heroes",
}
DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql"}


@pytest.mark.parametrize("backend", sorted(CLOSED))
def test_an_unreachable_server_is_a_one_line_error_naming_host_and_port(
    backend: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip(DRIVERS[backend], reason=f"the {backend} driver extra is not installed")
    assert main(["demo", "one-to-many", "--db", CLOSED[backend]]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("heroes-sa: error: cannot use the database at 127.0.0.1:1: ")
    assert err.count("\n") == 1
    assert PASSWORD not in err


def test_the_command_exits_non_zero_for_an_unreachable_server() -> None:
    pytest.importorskip("psycopg", reason="the postgres driver extra is not installed")
    done = subprocess.run(
        [sys.executable, "-m", "heroes_sa", "demo", "many-to-many", "--db", CLOSED["postgresql"]],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("heroes-sa: error: cannot use the database at 127.0.0.1:1: ")
    assert PASSWORD not in done.stderr


def test_a_driver_message_that_repeats_the_password_is_left_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Some drivers repeat the connection string; the password must not reach the terminal."""

    def refuse(*_args: object) -> None:
        raise OperationalError("connect", {}, Exception(f"bad DSN user=hero password={PASSWORD}"))

    monkeypatch.setattr(cli, "run", refuse)
    url = f"postgresql+psycopg://hero:{PASSWORD}@db.example/heroes"
    assert main(["demo", "one-to-many", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err == (
        "heroes-sa: error: cannot use the database at db.example:5432:"
        " Exception (its message repeats the password, so it is not shown)\n"
    )


@pytest.mark.parametrize("password", ["e", "a", "database"])
def test_a_password_that_is_a_common_word_leaves_the_message_whole(
    password: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Messages are built from the URL with its password hidden, never edited after."""
    pytest.importorskip("psycopg", reason="the postgres driver extra is not installed")
    assert (
        main(["demo", "one-to-many", "--db", f"postgresql+psycopg://u:{password}@127.0.0.1:1/x"])
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("heroes-sa: error: cannot use the database at 127.0.0.1:1: connection")
    assert "***" not in err
    assert "Connection refused" in err


def test_an_unreachable_server_under_async_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("asyncpg", reason="the asyncpg extra is not installed")
    url = f"postgresql+asyncpg://hero:{PASSWORD}@127.0.0.1:1/heroes"
    assert main(["demo", "many-to-many", "--async", "--db", url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("heroes-sa: error: cannot use the database at 127.0.0.1:1: ")
    assert err.count("\n") == 1
    assert PASSWORD not in err


def test_an_async_url_without_async_says_it_needs_async(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "heroes.db"
    assert main(["demo", "many-to-many", "--db", f"sqlite+aiosqlite:///{path}"]) == 1
    assert capsys.readouterr().err == (
        "heroes-sa: error: sqlite+aiosqlite:// names an async driver, which needs --async"
        " (or a sync URL such as sqlite://)\n"
    )
    assert not path.exists(), "nothing was opened"


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgresql+psycopg://h@db/x", "install it with: pip install 'heroes_sa[postgres]'"),
        ("mysql+pymysql://h@db/x", "install it with: pip install 'heroes_sa[mysql]'"),
        ("mysql://h@db/x", "heroes_sa[mysql] installs pymysql, used by mysql+pymysql:// URLs"),
    ],
)
def test_a_missing_driver_names_the_extra_that_installs_it(
    url: str, hint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_driver(*_args: object, **_kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'thedriver'")

    monkeypatch.setattr(cli, "create_engine", no_driver)
    assert main(["demo", "one-to-many", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("heroes-sa: error: the driver for ")
    assert "(No module named 'thedriver')" in err
    assert err.rstrip("\n").endswith(hint)


def test_a_missing_driver_of_another_backend_gets_no_extra_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_driver(*_args: object, **_kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'oracledb'")

    monkeypatch.setattr(cli, "create_engine", no_driver)
    assert main(["demo", "one-to-many", "--db", "oracle+oracledb://h@db/x"]) == 1
    assert capsys.readouterr().err == (
        "heroes-sa: error: the driver for oracle+oracledb is not installed"
        " (No module named 'oracledb')\n"
    )


@pytest.mark.parametrize("text", ["not a url", "postgresql+psycopg://u:pw@host:port/x"])
def test_a_string_that_is_no_url_is_a_one_line_error(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "one-to-many", "--db", text]) == 2, "a usage error, as argparse's"
    err = capsys.readouterr().err
    assert err.startswith("heroes-sa: error: --db is not a database URL: ")
    assert err.count("\n") == 1
    assert ":pw@" not in err


def demo_output(name: str, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["demo", name, "--db", url]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.mark.parametrize("name", ["one-to-many", "many-to-many"])
def test_the_demo_prints_on_the_server_what_it_prints_on_sqlite(
    name: str, server_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    on_sqlite = demo_output(name, "sqlite://", capsys)
    with scratch_database(server_url) as engine:
        url = engine.url.render_as_string(hide_password=False)
        assert demo_output(name, url, capsys) == on_sqlite
        models = one_to_many if name == "one-to-many" else many_to_many
        assert heroes_sa.current_revision(engine) == models.REVISION
        with engine.connect() as connection:
            heroes = connection.scalar(sa.select(sa.func.count()).select_from(models.Hero))
        # Ids count from 1 with no gaps, so the highest one printed is the count.
        assert heroes == max(int(i) for i in re.findall(r"Hero\(id=(\d+)", on_sqlite))


def test_the_demo_refuses_a_server_database_that_already_has_heroes(
    server_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    with scratch_database(server_url) as engine:
        url = engine.url.render_as_string(hide_password=False)
        demo_output("one-to-many", url, capsys)
        assert main(["demo", "one-to-many", "--db", url]) == 1
        assert capsys.readouterr().err == (
            "heroes-sa: error: the database already holds 8 heroes;"
            " the demo only writes into an empty one\n"
        )


# --- the demo's checks, on the backend under test ----------------------------------


def test_the_demo_refuses_a_database_at_another_revision(engine: sa.Engine) -> None:
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    with pytest.raises(
        WrongRevisionError,
        match=f"at revision {one_to_many.REVISION}, this demo needs {many_to_many.REVISION}",
    ):
        run("many-to-many", engine, io.StringIO())
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION


def test_the_demo_refuses_tables_alembic_does_not_know(engine: sa.Engine) -> None:
    """A database someone else made: the demo neither migrates nor writes into it."""
    theirs = sa.Table("hero", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    theirs.create(engine)
    with pytest.raises(WrongRevisionError, match=r"has tables \(hero\) but no Alembic revision"):
        run("one-to-many", engine, io.StringIO())
    assert sa.inspect(engine).get_table_names() == ["hero"]


def test_the_demo_refuses_a_database_with_heroes_and_writes_nothing(engine: sa.Engine) -> None:
    out = io.StringIO()
    run("many-to-many", engine, out)
    assert "Deadpond: Hero(id=1," in out.getvalue()
    with engine.connect() as connection:
        before = connection.execute(sa.select(many_to_many.HeroTeamLink)).all()
    with pytest.raises(DatabaseNotEmptyError, match="already holds 3 heroes"):
        run("many-to-many", engine, io.StringIO())
    with engine.connect() as connection:
        assert connection.execute(sa.select(many_to_many.HeroTeamLink)).all() == before


def test_the_demo_on_the_default_in_memory_database_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "one-to-many"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[-1] == (
        "Preventers new hero: Hero(id=8, name='Captain North America',"
        " secret_name='Esteban Rogelios', age=93, team_id=2)"
    )


def test_other_database_errors_are_their_first_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object) -> None:
        raise sa.exc.ProgrammingError("SELECT", {}, Exception("no such table: hero\nmore detail"))

    monkeypatch.setattr(cli, "run", broken)
    assert main(["demo", "one-to-many"]) == 1
    assert capsys.readouterr().err == (
        "heroes-sa: error: (builtins.Exception) no such table: hero\n"
    )
