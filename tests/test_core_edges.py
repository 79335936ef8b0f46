"""Edges of the core that the flow and migration tests do not reach.

repr of objects in odd states, where the URL comes from, a history that is
missing, and a foreign key check that finds something.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from heroes_sa import migration, one_to_many
from heroes_sa.engine import DEFAULT_URL, URL_ENV_VAR, resolve_url
from heroes_sa.errors import MigrationError


@pytest.mark.heroes_revision(one_to_many.REVISION)
def test_repr_says_which_columns_are_not_loaded(heroes_session: Session) -> None:
    hero = one_to_many.Hero(name="Deadpond", secret_name="Dive Wilson")
    heroes_session.add(hero)
    heroes_session.commit()
    heroes_session.refresh(hero)
    heroes_session.expire(hero, ["age", "secret_name"])
    assert repr(hero) == (
        f"Hero(id={hero.id}, name='Deadpond', secret_name=<not loaded>, age=<not loaded>,"
        " team_id=None)"
    )


def test_repr_of_an_instance_never_initialised() -> None:
    assert repr(one_to_many.Team.__new__(one_to_many.Team)) == "Team(<uninitialized>)"


@pytest.mark.parametrize(
    ("env", "expected"),
    [("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"), (None, DEFAULT_URL)],
)
def test_the_url_comes_from_the_environment_else_the_default(
    monkeypatch: pytest.MonkeyPatch, env: str | None, expected: str
) -> None:
    if env is None:
        monkeypatch.delenv(URL_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(URL_ENV_VAR, env)
    assert resolve_url().render_as_string() == expected
    assert resolve_url("sqlite://").render_as_string() == "sqlite://"


def test_missing_migration_scripts_name_where_they_were_looked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(migration, "_PACKAGE_DIR", tmp_path / "heroes_sa")
    with pytest.raises(MigrationError, match="migration scripts are missing") as missing:
        migration.script_location()
    assert str(tmp_path / "heroes_sa" / "_migrations") in str(missing.value)


def test_python_m_heroes_sa_is_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["heroes_sa", "demo", "many-to-many"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("heroes_sa", run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("Deadpond: Hero(id=1, name='Deadpond'")
