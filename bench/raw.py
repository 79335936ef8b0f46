"""The floor: the same work through Python's ``sqlite3`` with hand-written SQL.

No ORM, no SQL compilation, no result processing: what is left is the
database's own work plus the least Python that can hand it the rows.  Each
function here does what one heroes_sa path does (the tests check that the rows
and schema come out the same), so a ratio to it is the price of the layers
above ``sqlite3``.

Connections are opened the way heroes_sa's engine leaves them: the driver's
implicit transactions off, foreign keys enforced, ``BEGIN``/``COMMIT`` written
out.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Final

from bench.data import Dataset

# --- loading (the floor of workloads 1 and 2) -------------------------------


def load(connection: sqlite3.Connection, data: Dataset) -> None:
    """Insert ``data``'s teams, heroes and memberships, one executemany per table.

    Ids continue from the largest in each table, as SQLite numbers rows itself,
    and the link rows use them; one transaction.
    """
    cursor = connection.cursor()
    cursor.execute("BEGIN")
    first_team = cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM team").fetchone()[0]
    first_hero = cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM hero").fetchone()[0]
    cursor.executemany(
        "INSERT INTO team (id, name, headquarters) VALUES (?, ?, ?)",
        [(first_team + i, name, hq) for i, (name, hq) in enumerate(data.teams)],
    )
    cursor.executemany(
        "INSERT INTO hero (id, name, secret_name, age) VALUES (?, ?, ?, ?)",
        [(first_hero + i, name, secret, age) for i, (name, secret, age) in enumerate(data.heroes)],
    )
    cursor.executemany(
        "INSERT INTO heroteamlink (team_id, hero_id) VALUES (?, ?)",
        [(first_team + team, first_hero + hero) for hero, team in data.memberships],
    )
    cursor.execute("COMMIT")


def load_one_to_many(connection: sqlite3.Connection, data: Dataset) -> None:
    """Insert ``data`` into the one-to-many schema: one team per hero in ``hero.team_id``."""
    cursor = connection.cursor()
    cursor.execute("BEGIN")
    cursor.executemany(
        "INSERT INTO team (id, name, headquarters) VALUES (?, ?, ?)",
        [(1 + i, name, hq) for i, (name, hq) in enumerate(data.teams)],
    )
    cursor.executemany(
        "INSERT INTO hero (id, name, secret_name, age, team_id) VALUES (?, ?, ?, ?, ?)",
        [
            (1 + i, name, secret, age, 1 + team)
            for i, ((name, secret, age), team) in enumerate(
                zip(data.heroes, data.team_of_one_to_many, strict=True)
            )
        ],
    )
    cursor.execute("COMMIT")


# --- reading (workload 3) ----------------------------------------------------

Team = tuple[int, str, str]
Hero = tuple[int, str, str, int | None]


def read_heroes_with_teams(
    connection: sqlite3.Connection,
) -> list[tuple[Hero, list[Team]]]:
    """Every hero with its teams: two queries, grouped in Python."""
    teams_of: defaultdict[int, list[Team]] = defaultdict(list)
    for hero_id, team_id, name, headquarters in connection.execute(
        "SELECT heroteamlink.hero_id, team.id, team.name, team.headquarters"
        " FROM heroteamlink JOIN team ON team.id = heroteamlink.team_id"
    ):
        teams_of[hero_id].append((team_id, name, headquarters))
    return [
        (hero, teams_of.get(hero[0], []))
        for hero in connection.execute("SELECT id, name, secret_name, age FROM hero")
    ]


# --- migrating (the floor of workload 4) -------------------------------------

#: What upgrading from revision 0001 to head does on SQLite, statement for
#: statement as Alembic emits it: 0002's new table, set-based move and batch
#: mode's rebuild of ``hero`` without ``team_id``, 0003's index, 0004's
#: ``is_training`` column, the version stamps; minus the reflection Alembic
#: needs to work that out.  (The refusal check that comes first is
#: :data:`_DANGLING_TEAM_IDS`.)
MIGRATION_0001_TO_HEAD: Final = (
    """CREATE TABLE heroteamlink (
    team_id INTEGER NOT NULL,
    hero_id INTEGER NOT NULL,
    CONSTRAINT pk_heroteamlink PRIMARY KEY (team_id, hero_id),
    CONSTRAINT fk_heroteamlink_hero_id_hero FOREIGN KEY(hero_id) REFERENCES hero (id),
    CONSTRAINT fk_heroteamlink_team_id_team FOREIGN KEY(team_id) REFERENCES team (id)
)""",
    "INSERT INTO heroteamlink (team_id, hero_id)"
    " SELECT hero.team_id, hero.id FROM hero WHERE hero.team_id IS NOT NULL",
    """CREATE TABLE _alembic_tmp_hero (
    id INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    secret_name VARCHAR NOT NULL,
    age INTEGER,
    CONSTRAINT pk_hero PRIMARY KEY (id)
)""",
    "INSERT INTO _alembic_tmp_hero (id, name, secret_name, age)"
    " SELECT hero.id, hero.name, hero.secret_name, hero.age FROM hero",
    "DROP TABLE hero",
    "ALTER TABLE _alembic_tmp_hero RENAME TO hero",
    "CREATE INDEX ix_hero_age ON hero (age)",
    "CREATE INDEX ix_hero_name ON hero (name)",
    "UPDATE alembic_version SET version_num='0002_many_to_many'"
    " WHERE alembic_version.version_num = '0001_one_to_many'",
    "CREATE INDEX ix_heroteamlink_hero_id ON heroteamlink (hero_id)",
    "UPDATE alembic_version SET version_num='0003_link_hero_id_index'"
    " WHERE alembic_version.version_num = '0002_many_to_many'",
    "ALTER TABLE heroteamlink ADD COLUMN is_training BOOLEAN DEFAULT 0 NOT NULL",
    "UPDATE alembic_version SET version_num='0004_link_is_training'"
    " WHERE alembic_version.version_num = '0003_link_hero_id_index'",
)

_DANGLING_TEAM_IDS: Final = (
    "SELECT hero.id, hero.name, hero.team_id FROM hero"
    " WHERE hero.team_id IS NOT NULL"
    " AND NOT (EXISTS (SELECT * FROM team WHERE team.id = hero.team_id)) ORDER BY hero.id"
)


def migrate_to_head(connection: sqlite3.Connection) -> None:
    """Revision 0001 to head by hand, in SQLite's documented procedure for table rebuilds."""
    connection.execute("PRAGMA foreign_keys=OFF")
    try:
        connection.execute("BEGIN")
        if connection.execute(_DANGLING_TEAM_IDS).fetchall():
            connection.execute("ROLLBACK")
            raise ValueError("hero.team_id names missing teams")
        for statement in MIGRATION_0001_TO_HEAD:
            connection.execute(statement)
        if connection.execute("PRAGMA foreign_key_check").fetchall():
            connection.execute("ROLLBACK")
            raise ValueError("the migration would violate foreign keys")
        connection.execute("COMMIT")
    finally:
        connection.execute("PRAGMA foreign_keys=ON")
