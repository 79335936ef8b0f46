"""The Alembic history: pytest-alembic's four checks, data moves, refusals, atomicity."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, many_to_many, migration, one_to_many
from heroes_sa.errors import MigrationError, MigrationRefusedError, WrongRevisionError
from heroes_sa.migration import alembic_config, scripts_to_undo
from tests.migration_helpers import (
    execute_unchecked,
    rows,
    schema_diff,
    schema_snapshot,
)

REVISIONS = [one_to_many.REVISION, "0002_many_to_many", many_to_many.REVISION, link_model.REVISION]
# The revisions that have a models module (0002's schema is 0003's without
# the index 0003 adds).
MODELS = {
    one_to_many.REVISION: one_to_many.Base.metadata,
    many_to_many.REVISION: many_to_many.Base.metadata,
    link_model.REVISION: link_model.Base.metadata,
}


# Why some tests run on some backends only.
SQLITE_ONLY = pytest.mark.backends(
    "sqlite", reason="SQLite's foreign key pragmas and table rebuilds; other backends have neither"
)
TRANSACTIONAL_DDL = pytest.mark.backends(
    "sqlite",
    "postgresql",
    reason="MySQL/MariaDB commit each DDL statement at once, so it cannot be rolled back",
)


def seed_one_to_many(engine: Engine) -> None:
    """Three teams and heroes in each, plus one hero with no team."""
    with Session(engine) as session:
        preventers = one_to_many.Team(name="Preventers", headquarters="Sharp Tower")
        z_force = one_to_many.Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        one_to_many.Team(name="Empty", headquarters="Nowhere")
        session.add_all(
            [
                one_to_many.Hero(name="Deadpond", secret_name="Dive Wilson", team=z_force),
                one_to_many.Hero(
                    name="Rusty-Man", secret_name="Tommy Sharp", age=48, team=preventers
                ),
                one_to_many.Hero(name="Spider-Boy", secret_name="Pedro Parqueador"),
                one_to_many.Hero(name="Tarantula", secret_name="Natalia Roman-on", team=preventers),
            ]
        )
        session.commit()


# --- pytest-alembic's four checks -------------------------------------------


def test_single_head() -> None:
    """Two heads would make `alembic upgrade head` ambiguous."""
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [link_model.REVISION]
    assert [s.revision for s in reversed(list(script.walk_revisions()))] == REVISIONS


def test_upgrade_and_downgrade_through_every_revision(engine: Engine) -> None:
    """Every step runs on its own, in both directions, from an empty database."""
    assert heroes_sa.current_revision(engine) is None
    for revision in REVISIONS:
        heroes_sa.upgrade(engine, revision)
        assert heroes_sa.current_revision(engine) == revision
    for revision in reversed(REVISIONS[:-1]):
        heroes_sa.downgrade(engine, revision)
        assert heroes_sa.current_revision(engine) == revision
    heroes_sa.downgrade(engine, "base")
    assert heroes_sa.current_revision(engine) is None
    assert schema_snapshot(engine) == {
        "alembic_version": schema_snapshot(engine)["alembic_version"]
    }


@pytest.mark.parametrize("revision", MODELS)
def test_each_revision_matches_its_models(engine: Engine, revision: str) -> None:
    """Autogenerate finds nothing to change: models and migrations agree."""
    heroes_sa.upgrade(engine, revision)
    assert schema_diff(engine, MODELS[revision]) == []


def schema_at_revision(engine: Engine) -> dict[str, Any]:
    """The schema without alembic_version, which stays (empty) once at base."""
    snapshot = schema_snapshot(engine)
    snapshot.pop("alembic_version", None)
    return snapshot


def test_up_down_up_down_through_every_revision_gives_the_same_schema(engine: Engine) -> None:
    """Each revision has one schema, however often the history passes it.

    Every step goes up, down, up, down, then the whole history down to base
    and up again, the schema compared each time with indexes as the server
    reports them: on MariaDB the foreign key's own index comes and goes with
    0003, and head -> 0002 -> head -> 0002 once failed with "Duplicate key
    name".  pytest-alembic's up/down check goes down once only.
    """
    seen = {"base": schema_at_revision(engine)}

    def arrive(revision: str, how: str) -> None:
        assert schema_at_revision(engine) == seen.setdefault(
            revision, schema_at_revision(engine)
        ), f"{how} to {revision}"

    below = "base"
    for revision in REVISIONS:
        for trip in ("first", "second"):
            heroes_sa.upgrade(engine, revision)
            arrive(revision, f"{trip} upgrade")
            heroes_sa.downgrade(engine, below)
            arrive(below, f"{trip} downgrade")
        heroes_sa.upgrade(engine, revision)
        below = revision
    heroes_sa.downgrade(engine, "base")
    arrive("base", "downgrade from head")
    heroes_sa.upgrade(engine)
    arrive(REVISIONS[-1], "upgrade from base")
    assert set(seen) == {"base", *REVISIONS}


# --- data -------------------------------------------------------------------


def test_upgrade_moves_every_membership_into_link_rows(engine: Engine) -> None:
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    heroes_before = [(h[0], h[1], h[2], h[3]) for h in rows(engine, "hero")]
    expected_links = sorted(
        (team_id, hero_id) for hero_id, *_, team_id in rows(engine, "hero") if team_id
    )

    heroes_sa.upgrade(engine, many_to_many.REVISION)
    assert rows(engine, "hero") == heroes_before
    assert rows(engine, "heroteamlink") == expected_links
    with Session(engine) as session:
        teams = {
            h.name: sorted(t.name for t in h.teams)
            for h in session.scalars(sa.select(many_to_many.Hero))
        }
    assert teams == {
        "Deadpond": ["Z-Force"],
        "Rusty-Man": ["Preventers"],
        "Spider-Boy": [],
        "Tarantula": ["Preventers"],
    }


def test_downgrade_moves_single_memberships_back(engine: Engine) -> None:
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    before = rows(engine, "hero")
    heroes_sa.upgrade(engine)
    heroes_sa.downgrade(engine, one_to_many.REVISION)
    assert rows(engine, "hero") == before
    assert "heroteamlink" not in sa.inspect(engine).get_table_names()


def test_downgrade_refuses_heroes_in_two_teams_and_changes_nothing(engine: Engine) -> None:
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    heroes_sa.upgrade(engine)
    with Session(engine) as session:
        deadpond = session.scalars(sa.select(many_to_many.Hero).filter_by(name="Deadpond")).one()
        deadpond.teams.extend(
            session.scalars(sa.select(many_to_many.Team).filter_by(name="Preventers"))
        )
        session.commit()
    schema, links, heroes = (
        schema_snapshot(engine),
        rows(engine, "heroteamlink"),
        rows(engine, "hero"),
    )

    with pytest.raises(MigrationRefusedError, match=r"hero 1 'Deadpond' \(2 teams\)") as refused:
        heroes_sa.downgrade(engine, one_to_many.REVISION)
    assert "Rusty-Man" not in str(refused.value)
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    assert schema_snapshot(engine) == schema
    assert rows(engine, "heroteamlink") == links
    assert rows(engine, "hero") == heroes


def test_upgrade_refuses_team_ids_naming_no_team(engine: Engine) -> None:
    """A database SQLite never checked may hold them; they are named, not dropped."""
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    execute_unchecked(
        engine, sa.insert(one_to_many.Hero).values(name="Lost", secret_name="L", team_id=99)
    )
    before = schema_snapshot(engine), rows(engine, "hero")

    with pytest.raises(MigrationRefusedError, match=r"hero 5 'Lost' \(team_id 99\)"):
        heroes_sa.upgrade(engine)
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    assert (schema_snapshot(engine), rows(engine, "hero")) == before


@contextmanager
def failing_batch(*_args: Any, **_kwargs: Any) -> Iterator[None]:
    raise RuntimeError("forced failure half way through the migration")
    yield  # pragma: no cover


@TRANSACTIONAL_DDL
def test_a_migration_failing_half_way_leaves_the_previous_revision(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """heroteamlink is created and filled before the failure; all of it is undone."""
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    before = schema_snapshot(engine), rows(engine, "hero")
    monkeypatch.setattr(Operations, "batch_alter_table", failing_batch)

    with pytest.raises(RuntimeError, match="forced failure"):
        heroes_sa.upgrade(engine)
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    assert (schema_snapshot(engine), rows(engine, "hero")) == before


def test_foreign_keys_stay_enforced_for_the_application(engine: Engine) -> None:
    heroes_sa.upgrade(engine)
    # SQLite and MariaDB say FOREIGN KEY, PostgreSQL "foreign key".
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), engine.begin() as connection:
        connection.execute(sa.insert(many_to_many.HeroTeamLink).values(team_id=7, hero_id=7))
    assert rows(engine, "heroteamlink") == []


@contextmanager
def traced(connection: Connection) -> Iterator[list[str]]:
    """Every statement the SQLite driver runs on ``connection``, pragmas included."""
    sent: list[str] = []
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.set_trace_callback(sent.append)
    try:
        yield sent
    finally:
        driver.set_trace_callback(None)


def position(sent: list[str], statement: str) -> int:
    """Where a statement starting ``statement`` (whitespace aside) was first sent."""
    found = [i for i, s in enumerate(sent) if f"{' '.join(s.split())} ".startswith(f"{statement} ")]
    assert found, f"{statement!r} was never sent"
    return found[0]


@SQLITE_ONLY
def test_sqlite_rebuilds_hero_with_foreign_keys_enforced_while_no_link_references_it(
    engine: Engine,
) -> None:
    """SQLite's DROP TABLE rule, kept without switching enforcement off.

    DROP TABLE deletes the table's rows first, which SQLite refuses while
    other rows reference them; so 0002 rebuilds hero before heroteamlink
    exists on the way up, and after it is gone on the way down.
    """
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    heroes = rows(engine, "hero")
    with engine.connect() as connection:
        with traced(connection) as up:
            heroes_sa.upgrade(connection)
        with traced(connection) as down:
            heroes_sa.downgrade(connection, one_to_many.REVISION)
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    for sent in (up, down):
        assert not [s for s in sent if s.startswith("PRAGMA foreign_keys")]
    assert position(up, "DROP TABLE hero") < position(up, "CREATE TABLE heroteamlink")
    assert position(down, "DROP TABLE heroteamlink") < position(down, "DROP TABLE hero")
    # Whatever moved went through the foreign keys' checks: every row is valid.
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    assert rows(engine, "hero") == heroes


def test_downgrade_refuses_links_naming_no_hero_or_team_and_changes_nothing(
    engine: Engine,
) -> None:
    """A database that never enforced its keys may hold them; hero.team_id could not."""
    heroes_sa.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO team (name, headquarters) VALUES ('A', 'a')")
        connection.exec_driver_sql(
            "INSERT INTO hero (name, secret_name) VALUES ('B', 'b'), ('C', 'c')"
        )
        connection.exec_driver_sql("INSERT INTO heroteamlink (team_id, hero_id) VALUES (1, 1)")
    link = many_to_many.HeroTeamLink
    execute_unchecked(engine, sa.insert(link).values([(1, 9), (7, 2)]))
    before = schema_snapshot(engine), rows(engine, "heroteamlink")

    with pytest.raises(
        MigrationRefusedError,
        match=r"no hero, so no hero.team_id can hold them: "
        r"\(team_id 1, hero_id 9\), \(team_id 7, hero_id 2\)$",
    ):
        heroes_sa.downgrade(engine, one_to_many.REVISION)
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    assert (schema_snapshot(engine), rows(engine, "heroteamlink")) == before


@TRANSACTIONAL_DDL
@pytest.mark.parametrize("savepoint", [False, True], ids=["transaction", "savepoint"])
def test_a_connection_already_in_a_transaction_is_migrated_inside_it(
    engine: Engine, savepoint: bool
) -> None:
    """On SQLite too, foreign keys on: pytest-alembic's test_downgrade_leaves_no_trace does this."""
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    before = schema_snapshot(engine), rows(engine, "hero")
    with engine.connect() as connection, connection.begin():
        inner = connection.begin_nested() if savepoint else None
        heroes_sa.upgrade(connection)
        assert heroes_sa.current_revision(connection) == link_model.REVISION
        links = connection.exec_driver_sql("SELECT count(*) FROM heroteamlink").scalar()
        assert links == 3
        heroes_sa.downgrade(connection, one_to_many.REVISION)
        heroes_sa.upgrade(connection)
        if inner is not None:
            inner.rollback()
            assert heroes_sa.current_revision(connection) == one_to_many.REVISION
        connection.rollback()
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    assert (schema_snapshot(engine), rows(engine, "hero")) == before


def test_an_idle_connection_is_migrated_and_committed(engine: Engine) -> None:
    with engine.connect() as connection:
        heroes_sa.upgrade(connection, one_to_many.REVISION)
        assert not connection.in_transaction()
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION


def test_a_plain_sqlalchemy_sqlite_engine_is_refused() -> None:
    """Its driver would commit each DDL statement, so a failure could not be undone."""
    plain = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    with pytest.raises(MigrationError, match=r"heroes_sa\.create_engine"):
        heroes_sa.upgrade(plain)
    assert sa.inspect(plain).get_table_names() == []


def test_offline_sql_for_the_data_moving_revision_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite://")
    command.upgrade(config, one_to_many.REVISION, sql=True)
    assert "CREATE TABLE hero" in capsys.readouterr().out
    with pytest.raises(MigrationError, match="needs a live"):
        command.upgrade(config, f"{one_to_many.REVISION}:head", sql=True)


def test_head_revision_is_the_link_models() -> None:
    assert heroes_sa.head_revision() == link_model.REVISION


def test_revision_0003_only_indexes_the_link_tables_hero_id(engine: Engine) -> None:
    """The index that keeps loading a hero's teams from scanning every link row."""
    heroes_sa.upgrade(engine, "0002_many_to_many")
    before = schema_snapshot(engine)
    heroes_sa.upgrade(engine, many_to_many.REVISION)
    after = schema_snapshot(engine)

    def indexes(snapshot: dict[str, Any]) -> list[tuple[str, list[str], bool]]:
        return [
            (i["name"], i["column_names"], bool(i["unique"]))
            for i in snapshot["heroteamlink"]["indexes"]
        ]

    # InnoDB gives every foreign key an index of its own, named after the key,
    # unless another index serves it; 0003's index takes over that role there.
    own = [("fk_heroteamlink_hero_id_hero", ["hero_id"], False)]
    expected_before = own if engine.dialect.name == "mysql" else []
    assert indexes(before) == expected_before
    assert indexes(after) == [("ix_heroteamlink_hero_id", ["hero_id"], False)]
    for snapshot in (before, after):
        del snapshot["heroteamlink"]["indexes"]
        del snapshot["alembic_version"]
    assert after == before
    heroes_sa.downgrade(engine, "0002_many_to_many")
    assert indexes(schema_snapshot(engine)) == expected_before


@pytest.mark.parametrize(
    ("current", "destination", "undone"),
    [
        (many_to_many.REVISION, "base", [many_to_many.REVISION, "0002_many_to_many", REVISIONS[0]]),
        (many_to_many.REVISION, REVISIONS[0], [many_to_many.REVISION, "0002_many_to_many"]),
        (many_to_many.REVISION, "-1", [many_to_many.REVISION]),
        (many_to_many.REVISION, "-2", [many_to_many.REVISION, "0002_many_to_many"]),
        ("0002_many_to_many", "0002", []),
        (REVISIONS[0], "head", []),
        (REVISIONS[0], "+1", []),
        (None, "base", []),
    ],
)
def test_the_revisions_a_downgrade_undoes(
    current: str | None, destination: str, undone: list[str]
) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert [s.revision for s in scripts_to_undo(script, current, destination)] == undone


def test_a_downgrade_across_several_revisions_checks_the_data_before_any_step(
    engine: Engine,
) -> None:
    """On MariaDB each step's DDL commits at once: a refusal must come first."""
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    heroes_sa.upgrade(engine, many_to_many.REVISION)
    with Session(engine) as session:
        deadpond = session.scalars(sa.select(many_to_many.Hero).filter_by(name="Deadpond")).one()
        deadpond.teams.append(
            session.scalars(sa.select(many_to_many.Team).filter_by(name="Preventers")).one()
        )
        session.commit()
    before = schema_snapshot(engine)
    for destination in ("base", one_to_many.REVISION, "-2"):
        with pytest.raises(MigrationRefusedError, match="'Deadpond'"):
            heroes_sa.downgrade(engine, destination)
        assert heroes_sa.current_revision(engine) == many_to_many.REVISION
        assert schema_snapshot(engine) == before
    heroes_sa.downgrade(engine, "-1")  # not crossing 0002: allowed
    assert heroes_sa.current_revision(engine) == "0002_many_to_many"


def put_deadpond_in_two_teams(engine: Engine) -> None:
    with Session(engine) as session:
        deadpond = session.scalars(sa.select(many_to_many.Hero).filter_by(name="Deadpond")).one()
        deadpond.teams.append(
            session.scalars(sa.select(many_to_many.Team).filter_by(name="Preventers")).one()
        )
        session.commit()


@pytest.mark.parametrize("destination", [one_to_many.REVISION, "0001", "-1", "base"])
def test_an_upgrade_to_a_revision_below_the_current_one_is_refused(
    engine: Engine, destination: str
) -> None:
    """It says so and changes nothing, rather than running a downgrade's checks."""
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    seed_one_to_many(engine)
    heroes_sa.upgrade(engine)
    put_deadpond_in_two_teams(engine)
    before = schema_snapshot(engine), rows(engine, "heroteamlink")

    with pytest.raises(WrongRevisionError) as refused:
        heroes_sa.upgrade(engine, destination)
    assert str(refused.value) == (
        f"cannot upgrade to {destination}: it is below the database's revision"
        f" {link_model.REVISION}; use downgrade to go down"
    )
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    assert (schema_snapshot(engine), rows(engine, "heroteamlink")) == before


def test_an_upgrade_to_the_current_revision_does_nothing(engine: Engine) -> None:
    heroes_sa.upgrade(engine)
    before = schema_snapshot(engine)
    heroes_sa.upgrade(engine, link_model.REVISION)
    assert schema_snapshot(engine) == before


def test_every_revision_and_the_template_define_check_downgrade() -> None:
    """env.py calls it for each revision a downgrade undoes; a new revision cannot leave it out."""
    script = ScriptDirectory.from_config(alembic_config())
    for revision in script.walk_revisions():
        assert callable(getattr(revision.module, "check_downgrade", None)), revision.revision
    template = (Path(script.dir) / "script.py.mako").read_text()
    assert "def check_downgrade(bind: sa.Connection) -> None:" in template


def test_missing_migration_scripts_name_where_they_were_looked_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(migration, "_PACKAGE_DIR", tmp_path / "heroes_sa")
    with pytest.raises(MigrationError, match="migration scripts are missing") as missing:
        migration.script_location()
    assert str(tmp_path / "heroes_sa" / "_migrations") in str(missing.value)
