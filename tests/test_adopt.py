"""Adopting a database that the SQLModel tutorial's create_all made.

The DDL below is what SQLModel's create_all sends for the tutorial's
one-to-many models on SQLite (unnamed constraints, no alembic_version table).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, one_to_many
from heroes_sa.errors import MigrationRefusedError
from heroes_sa.migration import alembic_config
from tests.migration_helpers import schema_diff

SQLMODEL_ONE_TO_MANY_DDL = [
    """CREATE TABLE team (
        id INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        headquarters VARCHAR NOT NULL,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_team_name ON team (name)",
    """CREATE TABLE hero (
        id INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        secret_name VARCHAR NOT NULL,
        age INTEGER,
        team_id INTEGER,
        PRIMARY KEY (id),
        FOREIGN KEY(team_id) REFERENCES team (id)
    )""",
    "CREATE INDEX ix_hero_name ON hero (name)",
    "CREATE INDEX ix_hero_age ON hero (age)",
]

TEAMS = [
    (1, "Preventers", "Sharp Tower"),
    (2, "Z-Force", "Sister Margaret's Bar"),
    (3, "Wakaland", "Wakaland Capital City"),
]
HEROES = [
    (1, "Deadpond", "Dive Wilson", None, 2),
    (2, "Rusty-Man", "Tommy Sharp", 48, 1),
    (3, "Spider-Boy", "Pedro Parqueador", None, 1),
    (4, "Black Lion", "Trevor Challa", 35, 3),
    (5, "Princess Sure-E", "Sure-E", None, 3),
    (6, "Tarantula", "Natalia Roman-on", 32, 1),
    (7, "Dr. Weird", "Steve Weird", 36, None),
]


def make_sqlmodel_database(path: Path) -> None:
    """A file as the tutorial's program leaves it, written with plain sqlite3 semantics."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        for statement in SQLMODEL_ONE_TO_MANY_DDL:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("INSERT INTO team VALUES (?, ?, ?)", TEAMS)
        connection.exec_driver_sql("INSERT INTO hero VALUES (?, ?, ?, ?, ?)", HEROES)
    engine.dispose()


def test_stamp_then_upgrade_keeps_every_membership(tmp_path: Path) -> None:
    path = tmp_path / "database.db"
    make_sqlmodel_database(path)
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    assert heroes_sa.current_revision(engine) is None
    # The adopted schema is the first revision's, but for constraint names.
    assert schema_diff(engine, one_to_many.Base.metadata) == []

    with engine.connect() as connection:
        command.stamp(alembic_config(connection), one_to_many.REVISION)
        connection.commit()
    heroes_sa.upgrade(engine)

    assert heroes_sa.current_revision(engine) == link_model.REVISION
    assert schema_diff(engine, link_model.Base.metadata) == []
    with Session(engine) as session:
        teams = {
            hero.name: [team.name for team in hero.teams]
            for hero in session.scalars(sa.select(link_model.Hero).order_by(link_model.Hero.id))
        }
    team_names = {team_id: name for team_id, name, _ in TEAMS}
    assert teams == {
        name: ([team_names[team_id]] if team_id else []) for _, name, _, _, team_id in HEROES
    }
    engine.dispose()


def test_team_ids_naming_no_team_survive_the_stamp_and_are_named_by_the_upgrade(
    tmp_path: Path,
) -> None:
    """SQLModel on SQLite never enforced the foreign key, so such rows exist in the wild."""
    path = tmp_path / "database.db"
    make_sqlmodel_database(path)
    plain = sa.create_engine(f"sqlite:///{path}")
    with plain.begin() as connection:
        connection.exec_driver_sql("UPDATE hero SET team_id = 99 WHERE name = 'Dr. Weird'")
    plain.dispose()

    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        command.stamp(alembic_config(connection), one_to_many.REVISION)
    with pytest.raises(MigrationRefusedError, match=r"hero 7 'Dr. Weird' \(team_id 99\)"):
        heroes_sa.upgrade(engine)
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT team_id FROM hero WHERE id = 7").scalar() == 99
    engine.dispose()
