"""Parity of the schema: SQLModel's create_all against heroes_sa's migrations.

For each page of the tutorial, two empty databases: one gets SQLModel's
``create_all`` for the tutorial's models, the other ``heroes_sa.upgrade`` to
the revision that has the same schema (``0001_one_to_many``,
``0002_many_to_many``).  SQLAlchemy's inspector must then report the same
tables, columns, types, nullability, primary keys, foreign keys and indexes.
Constraint names are a deliberate difference, asserted by name in its own
test, and so is the one index revision 0003 adds.  The chapter "Link Model
with Extra Fields" (revision 0004) has one more: ``is_training``'s server default.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("sqlmodel", reason="the parity suite needs the 'parity' extra")

from sqlalchemy import Engine, String, inspect
from sqlalchemy.engine import Inspector

from heroes_sa import many_to_many
from tests.parity.conftest import DatabaseFactory
from tests.parity.harness import (
    LINK_MODEL,
    SHAPES,
    SQLMODEL_MODELS,
    Side,
    heroes_side,
    sqlmodel_side,
)

#: The table Alembic keeps its bookkeeping in; SQLModel has none.
ALEMBIC_VERSION = "alembic_version"


def layout(engine: Engine) -> dict[str, dict[str, Any]]:
    """Everything the inspector says about each table, constraint names left out.

    Index names stay in: heroes_sa's naming convention gives indexes the very
    names SQLModel's do.
    """
    with engine.connect() as connection:
        inspector = inspect(connection)
        tables: dict[str, dict[str, Any]] = {}
        for table in sorted(inspector.get_table_names()):
            columns = [
                {
                    "name": c["name"],
                    "type": c["type"].compile(dialect=engine.dialect),
                    "nullable": c["nullable"],
                    "default": c["default"],
                    "autoincrement": c.get("autoincrement"),
                }
                for c in inspector.get_columns(table)
            ]
            foreign_keys = sorted(
                (
                    fk["constrained_columns"],
                    fk["referred_schema"],
                    fk["referred_table"],
                    fk["referred_columns"],
                    fk.get("options", {}),
                )
                for fk in inspector.get_foreign_keys(table)
            )
            foreign_key_indexes = _foreign_key_indexes(inspector, table)
            indexes = sorted(
                # An index MariaDB made to back a foreign key is named after the
                # constraint, so its name is compared with theirs, below.
                (
                    "<backs a foreign key>" if ix["name"] in foreign_key_indexes else ix["name"],
                    ix["column_names"],
                    ix["unique"],
                )
                for ix in inspector.get_indexes(table)
            )
            tables[table] = {
                "columns": columns,
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": foreign_keys,
                "indexes": indexes,
                "unique": sorted(
                    u["column_names"] for u in inspector.get_unique_constraints(table)
                ),
                "checks": sorted(c["sqltext"] for c in inspector.get_check_constraints(table)),
            }
        return tables


def _foreign_key_indexes(inspector: Inspector, table: str) -> list[str]:
    """Names of the indexes MySQL/MariaDB created by itself to back a foreign key.

    It names such an index after the constraint, or after the first column
    when the constraint has no name; other backends create none.
    """
    if inspector.dialect.name not in {"mysql", "mariadb"}:
        return []
    backing = {
        (tuple(fk["constrained_columns"]), name)
        for fk in inspector.get_foreign_keys(table)
        for name in (fk["name"], fk["constrained_columns"][0])
    }
    return [
        str(ix["name"])
        for ix in inspector.get_indexes(table)
        if (tuple(ix["column_names"]), ix["name"]) in backing
    ]


def constraint_names(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per table: the names of the primary key, the foreign keys and their backing indexes."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                "pk": inspector.get_pk_constraint(table)["name"],
                "fks": {
                    tuple(fk["constrained_columns"]): fk["name"]
                    for fk in inspector.get_foreign_keys(table)
                },
                "fk_indexes": sorted(_foreign_key_indexes(inspector, table)),
            }
            for table in inspector.get_table_names()
            if table != ALEMBIC_VERSION
        }


def both(
    shape: str, new_database: DatabaseFactory, revision: str | None = None
) -> tuple[Engine, Engine]:
    """heroes_sa's and SQLModel's database of ``shape``, each made its own way.

    heroes_sa's is migrated to ``revision``, by default the one whose schema
    is the tutorial's.
    """
    sides: list[Side] = [
        heroes_side(shape, revision or SQLMODEL_MODELS[shape].REVISION),
        sqlmodel_side(shape),
    ]
    heroes, sqlmodel = (new_database(side.new_database) for side in sides)
    return heroes, sqlmodel


@pytest.mark.parametrize("shape", SHAPES)
def test_migrations_build_the_tables_create_all_builds(
    shape: str, new_database: DatabaseFactory
) -> None:
    heroes, sqlmodel = both(shape, new_database)
    ours, theirs = layout(heroes), layout(sqlmodel)

    assert set(ours) - set(theirs) == {ALEMBIC_VERSION}, "Alembic's bookkeeping, nothing else"
    del ours[ALEMBIC_VERSION]
    assert ours == theirs
    expected_tables = {"hero", "team"} | ({"heroteamlink"} if shape == "many_to_many" else set())
    assert set(theirs) == expected_tables


def test_the_head_revision_adds_one_index_sqlmodel_lacks(new_database: DatabaseFactory) -> None:
    """``ix_heroteamlink_hero_id`` (revision 0003): a hero's teams found without a scan.

    The link table's primary key (team_id, hero_id) serves a team's heroes
    only.  Everything else at the head is still SQLModel's schema.  MariaDB
    had made an index of its own for the hero_id foreign key, named after
    the column in SQLModel's database; at the head that key uses the new one.
    """
    heroes, sqlmodel = both("many_to_many", new_database, many_to_many.REVISION)
    ours, theirs = layout(heroes), layout(sqlmodel)
    del ours[ALEMBIC_VERSION]
    our_indexes = ours["heroteamlink"].pop("indexes")
    their_indexes = theirs["heroteamlink"].pop("indexes")

    assert ours == theirs
    assert our_indexes == [("ix_heroteamlink_hero_id", ["hero_id"], False)]
    backing = [("<backs a foreign key>", ["hero_id"], False)] if on_mysql(sqlmodel) else []
    assert their_indexes == backing


def test_revision_0004_is_the_chapters_schema_plus_the_index_and_a_server_default(
    new_database: DatabaseFactory,
) -> None:
    """``heroteamlink.is_training``: SQLModel's BOOLEAN NOT NULL, with a server default of false.

    The default keeps ``INSERT INTO heroteamlink (team_id, hero_id)`` (what
    ``Hero.teams`` sends) working, and gave every membership that existed
    before the upgrade a value.  SQLModel's ``create_all`` makes the column
    without one: its rows always come from ``HeroTeamLink`` objects.
    """
    heroes, sqlmodel = both(LINK_MODEL, new_database)
    ours, theirs = layout(heroes), layout(sqlmodel)
    del ours[ALEMBIC_VERSION]
    our_indexes = ours["heroteamlink"].pop("indexes")
    their_indexes = theirs["heroteamlink"].pop("indexes")
    our_training, their_training = (
        next(c for c in side["heroteamlink"]["columns"] if c["name"] == "is_training")
        for side in (ours, theirs)
    )
    our_default = our_training.pop("default")

    assert their_training.pop("default") is None
    # How each backend spells false: SQLite and MariaDB store booleans as integers.
    assert our_default == ("false" if heroes.dialect.name == "postgresql" else "0")
    assert our_training == their_training
    assert not our_training["nullable"]
    assert ours == theirs
    assert our_indexes == [("ix_heroteamlink_hero_id", ["hero_id"], False)]
    backing = [("<backs a foreign key>", ["hero_id"], False)] if on_mysql(sqlmodel) else []
    assert their_indexes == backing


@pytest.mark.parametrize("shape", SHAPES)
def test_strings_are_plain_varchar_except_on_mysql_on_both(
    shape: str, new_database: DatabaseFactory
) -> None:
    """``Mapped[str]`` is SQLModel's AutoString: VARCHAR, and VARCHAR(255) on MySQL/MariaDB."""
    for engine in both(shape, new_database):
        with engine.connect() as connection:
            columns = inspect(connection).get_columns("hero")
        name = next(c for c in columns if c["name"] == "name")
        assert isinstance(name["type"], String)
        assert name["type"].length == (255 if on_mysql(engine) else None), engine.url


def conventional_names(shape: str) -> dict[str, dict[str, Any]]:
    """The names heroes_sa's naming convention gives the constraints of ``shape``."""
    foreign_keys: dict[str, dict[tuple[str, ...], str]] = {
        "team": {},
        "hero": {("team_id",): "fk_hero_team_id_team"},
    }
    if shape == "many_to_many":
        foreign_keys["hero"] = {}
        foreign_keys["heroteamlink"] = {
            ("team_id",): "fk_heroteamlink_team_id_team",
            ("hero_id",): "fk_heroteamlink_hero_id_hero",
        }
    return {table: {"pk": f"pk_{table}", "fks": fks} for table, fks in foreign_keys.items()}


def needs_index(table: str, columns: tuple[str, ...]) -> bool:
    """Whether MySQL/MariaDB adds an index for this foreign key.

    Only where no index starts with its columns already: heroteamlink's
    primary key (team_id, hero_id) serves team_id's.
    """
    return (table, columns) != ("heroteamlink", ("team_id",))


def on_mysql(engine: Engine) -> bool:
    """MySQL or MariaDB, whose dialect may be named either."""
    return engine.dialect.name in {"mysql", "mariadb"}


def expected_names(engine: Engine, conventional: dict[str, dict[str, Any]]) -> Any:
    """What the inspector reports on ``engine`` for constraints named ``conventional``.

    MySQL/MariaDB reports no primary key name (it calls every one ``PRIMARY``)
    and backs each foreign key not covered by the primary key with an index
    named after it.
    """
    if not on_mysql(engine):
        return {table: {**names, "fk_indexes": []} for table, names in conventional.items()}
    return {
        table: {
            "pk": None,
            "fks": names["fks"],
            "fk_indexes": sorted(
                name for columns, name in names["fks"].items() if needs_index(table, columns)
            ),
        }
        for table, names in conventional.items()
    }


def backend_names(engine: Engine, conventional: dict[str, dict[str, Any]]) -> Any:
    """What the inspector reports for the same constraints left unnamed, as create_all does."""
    expected: dict[str, dict[str, Any]] = {}
    for table, names in conventional.items():
        columns = list(names["fks"])
        if engine.dialect.name == "sqlite":
            expected[table] = {"pk": None, "fks": dict.fromkeys(columns), "fk_indexes": []}
        elif engine.dialect.name == "postgresql":
            expected[table] = {
                "pk": f"{table}_pkey",
                "fks": {c: f"{table}_{c[0]}_fkey" for c in columns},
                "fk_indexes": [],
            }
        else:
            expected[table] = {
                "pk": None,
                "fks": {c: re.compile(rf"{table}_ibfk_\d+") for c in columns},
                # Named after its column when the constraint has no name.
                "fk_indexes": sorted(c[0] for c in columns if needs_index(table, c)),
            }
    return expected


def names_match(found: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]]) -> bool:
    """``found == expected``, where an expected compiled pattern must fullmatch."""

    def same(value: Any, want: Any) -> bool:
        if isinstance(want, re.Pattern):
            return isinstance(value, str) and want.fullmatch(value) is not None
        if isinstance(want, dict):
            return (
                isinstance(value, dict)
                and value.keys() == want.keys()
                and all(same(value[k], want[k]) for k in want)
            )
        return bool(value == want)

    return same(found, expected)


@pytest.mark.parametrize("shape", SHAPES)
def test_constraint_names_differ_by_design(shape: str, new_database: DatabaseFactory) -> None:
    """heroes_sa names every constraint by convention; SQLModel leaves it to the backend.

    So a later migration can drop a constraint by a name known in advance on
    every backend.  SQLite keeps no name for an unnamed constraint, PostgreSQL
    makes ``hero_pkey`` / ``hero_team_id_fkey``, MariaDB ``PRIMARY`` /
    ``hero_ibfk_1`` (and the index backing it is named ``hero_id`` instead of
    after the constraint).  MariaDB reports no name for any primary key, so
    there the primary keys agree.
    """
    heroes, sqlmodel = both(shape, new_database)
    conventional = conventional_names(shape)
    ours, theirs = constraint_names(heroes), constraint_names(sqlmodel)

    assert ours == expected_names(heroes, conventional)
    assert names_match(theirs, backend_names(sqlmodel, conventional)), theirs
    assert ours != theirs
