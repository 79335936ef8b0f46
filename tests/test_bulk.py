"""heroes_sa.bulk.bulk_create: the ORM's rows, one executemany per table, clean refusals."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import bulk
from heroes_sa.bulk import CreatedIds, NewHero, NewTeam, bulk_create
from heroes_sa.errors import InvalidValueError
from heroes_sa.many_to_many import Hero, HeroTeamLink, Team
from heroes_sa.testing import RecordedSQL, scratch_database
from tests.migration_helpers import rows

# These tests assert the ids the tutorial prints, which the servers hand out
# from counters that rolled-back tests moved on: restart them per test.
pytestmark = pytest.mark.usefixtures("heroes_restart_identities")

TEAMS: list[NewTeam] = [
    {"name": "Preventers", "headquarters": "Sharp Tower"},
    {"name": "Z-Force", "headquarters": "Sister Margaret's Bar"},
    {"name": "Wakaland", "headquarters": "Wakaland Capital City"},
]
HEROES: list[NewHero] = [
    {"name": "Deadpond", "secret_name": "Dive Wilson"},
    {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48},
    {"name": "Spider-Boy", "secret_name": "Pedro Parqueador", "age": None},
    {"name": "Black Lion", "secret_name": "Trevor Challa", "age": 35},
    {"name": "Princess Sure-E", "secret_name": "Sure-E"},
]
# Deadpond reaches Preventers then Z-Force, Black Lion Wakaland: the order the
# ORM inserts the teams in, so both ways give the same ids too.
MEMBERSHIPS = [(0, 0), (0, 1), (1, 0), (3, 2), (4, 2), (4, 0)]


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    """A scratch database at head on the backend under test."""
    heroes_sa.upgrade(engine)
    return engine


@pytest.fixture
def orm_rows(heroes_db_url: URL | None) -> Rows:
    """The rows the tutorial's way of creating leaves, in a scratch database of its own."""
    with scratch_database(heroes_db_url) as orm_engine:
        heroes_sa.upgrade(orm_engine)
        with Session(orm_engine) as session:
            create_through_relationships(session)
        return dump(orm_engine)


def create_through_relationships(session: Session) -> None:
    """The tutorial's way: Hero(teams=[...]), add each hero, one commit."""
    teams = [Team(name=t["name"], headquarters=t["headquarters"]) for t in TEAMS]
    for position, hero in enumerate(HEROES):
        session.add(
            Hero(
                name=hero["name"],
                secret_name=hero["secret_name"],
                age=hero.get("age"),
                teams=[teams[t] for h, t in MEMBERSHIPS if h == position],
            )
        )
    session.commit()


Rows = dict[str, list[tuple[Any, ...]]]


def dump(engine: Engine) -> Rows:
    return {table: rows(engine, table) for table in ("team", "hero", "heroteamlink")}


def test_same_rows_as_creating_through_relationships(migrated: Engine, orm_rows: Rows) -> None:
    engine = migrated
    expected = orm_rows

    with Session(engine) as session:
        ids = bulk_create(session, heroes=HEROES, teams=TEAMS, memberships=MEMBERSHIPS)
        session.commit()
    assert dump(engine) == expected
    assert ids == CreatedIds(team_ids=[1, 2, 3], hero_ids=[1, 2, 3, 4, 5])
    assert len(expected["heroteamlink"]) == len(MEMBERSHIPS)


@pytest.mark.backends(
    "sqlite",
    reason="the SQL log shows a server's batched INSERT ... RETURNING as one entry per row",
)
def test_one_executemany_per_table(heroes_session: Session, sql_log: RecordedSQL) -> None:
    bulk_create(heroes_session, heroes=HEROES, teams=TEAMS, memberships=MEMBERSHIPS)
    inserts = [s for s in sql_log.dml() if s.verb == "INSERT"]
    assert [(s.table, s.executemany) for s in inserts] == [
        ("team", True),
        ("hero", True),
        ("heroteamlink", True),
    ]
    assert [len(s.parameters) for s in inserts] == [len(TEAMS), len(HEROES), len(MEMBERSHIPS)]


def test_ids_continue_after_existing_rows_and_name_the_rows(heroes_session: Session) -> None:
    create_through_relationships(heroes_session)
    ids = bulk_create(
        heroes_session,
        heroes=[{"name": "Tarantula", "secret_name": "Natalia Roman-on", "age": 32}],
        teams=[{"name": "Avengers", "headquarters": "Tower"}],
        memberships=[(0, 0)],
    )
    assert ids == CreatedIds(team_ids=[4], hero_ids=[6])
    hero = heroes_session.get(Hero, 6)
    assert hero is not None
    assert (hero.name, hero.age, [t.name for t in hero.teams]) == ("Tarantula", 32, ["Avengers"])


def test_existing_teams_are_given_by_id(heroes_session: Session) -> None:
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    heroes_session.add(preventers)
    heroes_session.commit()
    ids = bulk_create(
        heroes_session,
        heroes=HEROES[:2],
        teams=[preventers.id, {"name": "Z-Force", "headquarters": "Bar"}],
        memberships=[(0, 0), (0, 1), (1, 0)],
    )
    assert ids.team_ids == [preventers.id, preventers.id + 1]
    heroes_session.expire_all()
    assert sorted(h.name for h in preventers.heroes) == ["Deadpond", "Rusty-Man"]


def test_pending_objects_are_flushed_first_so_ids_never_collide(heroes_session: Session) -> None:
    pending = Hero(name="Dr. Weird", secret_name="Steve Weird")
    heroes_session.add(pending)
    ids = bulk_create(heroes_session, heroes=HEROES[:2])
    assert pending.id == 1
    assert ids.hero_ids == [2, 3]


def test_nothing_enters_the_identity_map_and_rollback_undoes_it(migrated: Engine) -> None:
    engine = migrated
    with Session(engine) as session:
        bulk_create(session, heroes=HEROES, teams=TEAMS, memberships=MEMBERSHIPS)
        assert len(session.identity_map) == 0
        assert session.scalar(select(func.count()).select_from(Hero)) == len(HEROES)
        session.rollback()
    assert dump(engine) == {"team": [], "hero": [], "heroteamlink": []}


def test_empty_input_writes_nothing(heroes_session: Session, sql_log: RecordedSQL) -> None:
    assert bulk_create(heroes_session, heroes=[]) == CreatedIds(team_ids=[], hero_ids=[])
    assert sql_log.dml() == []


def test_backends_with_ordered_returning_get_ids_from_the_database(
    migrated: Engine, orm_rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path PostgreSQL takes, run on SQLite, where SQLAlchemy does it row by row."""
    monkeypatch.setattr(bulk, "_numbers_ids_itself", lambda _session: False)
    engine = migrated
    expected = orm_rows
    with Session(engine) as session:
        ids = bulk_create(session, heroes=HEROES, teams=[*TEAMS], memberships=MEMBERSHIPS)
        session.commit()
    assert ids == CreatedIds(team_ids=[1, 2, 3], hero_ids=[1, 2, 3, 4, 5])
    assert dump(engine) == expected


ONLY_MYSQL = pytest.mark.backends("mysql", reason="only MySQL/MariaDB give string columns a length")
ONLY_POSTGRESQL = pytest.mark.backends("postgresql", reason="only PostgreSQL refuses NUL")
ONLY_SERVERS = pytest.mark.backends(
    "postgresql", "mysql", reason="SQLite's INTEGER holds 64 bits, checked for every backend"
)

OK_HERO: NewHero = {"name": "Deadpond", "secret_name": "Dive Wilson"}
OK_TEAM: NewTeam = {"name": "Preventers", "headquarters": "Sharp Tower"}
ONE_EACH: dict[str, Any] = {"heroes": [OK_HERO], "teams": [OK_TEAM]}

BAD_INPUT = [
    ({"heroes": [("Deadpond", "Dive")]}, r"heroes\[0\] must be a mapping .*, got tuple"),
    ({"heroes": [OK_HERO, {"name": "Rusty-Man"}]},
     r"heroes\[1\] is missing required 'secret_name'"),
    ({"heroes": [{**OK_HERO, "name": None}]}, r"heroes\[0\]\['name'\] is required; got None"),
    ({"heroes": [{**OK_HERO, "age": "old"}]},
     r"heroes\[0\]\['age'\] must be an int; got str 'old'"),
    ({"heroes": [{**OK_HERO, "age": True}]}, r"heroes\[0\]\['age'\] must be an int; got bool True"),
    ({"heroes": [OK_HERO, {**OK_HERO, "age": 2**70}]}, r"heroes\[1\]\['age'\] must be between"
     r" -9223372036854775808 and 9223372036854775807; got 1180591620717411303424"),
    ({"heroes": [{**OK_HERO, "secret_name": "\ud800"}]},
     r"heroes\[0\]\['secret_name'\] holds a lone surrogate"),
    ({**ONE_EACH, "teams": [{**OK_TEAM, "name": 7}]},
     r"teams\[0\]\['name'\] must be a str; got int 7"),
    ({"heroes": [{**OK_HERO, "team": "Z"}]}, r"heroes\[0\] has unknown keys \['team'\]"),
    ({"heroes": [], "teams": ["Preventers"]}, r"teams\[0\] must be .* int id .*, got str"),
    ({"heroes": [], "teams": [True]}, r"teams\[0\] must be a mapping .*, got bool"),
    ({"heroes": [], "teams": [{"name": "Preventers"}]},
     r"teams\[0\] is missing required 'headquarters'"),
    ({"heroes": [], "teams": [{**OK_TEAM, "id": 3}]}, r"teams\[0\] has unknown keys \['id'\]"),
    ({**ONE_EACH, "memberships": [(0,)]}, r"memberships\[0\] must be a \(hero index, team index\)"),
    ({**ONE_EACH, "memberships": [5]}, r"memberships\[0\] must be a .* pair, got 5"),
    ({**ONE_EACH, "memberships": [(0, 0), (1, 0)]}, r"memberships\[1\]: 1 is not a position in"
     r" heroes \(valid: 0 to 0\)"),
    ({**ONE_EACH, "memberships": [(-1, 0)]}, r"memberships\[0\]: -1 is not a position in heroes"),
    ({**ONE_EACH, "memberships": [(0, "0")]}, r"memberships\[0\]: positions are ints, got '0'"),
    ({"heroes": [OK_HERO], "memberships": [(0, 0)]}, r"memberships\[0\]: 0 is not a position in"
     r" teams \(valid: none, teams is empty\)"),
    ({**ONE_EACH, "memberships": [(0, 0), (0, 0)]}, r"memberships\[1\]: heroes\[0\] is already"
     r" in teams\[0\]"),
    ({**ONE_EACH, "teams": [OK_TEAM, 99, 98]}, r"no team has these ids: teams\[1\] = 99,"
     r" teams\[2\] = 98"),
    ({**ONE_EACH, "teams": [1, OK_TEAM, 1], "memberships": [(0, 0), (0, 2)]},
     r"memberships\[1\]: heroes\[0\] is already in teams\[0\], the same team as teams\[2\]"),
    # The limits of the database under test, checked before the first statement too.
    pytest.param({"heroes": [OK_HERO], "teams": [OK_TEAM, {**OK_TEAM, "headquarters": "h" * 256}]},
                 r"teams\[1\]\['headquarters'\] is 256 characters long; the mysql column holds"
                 r" at most 255", marks=ONLY_MYSQL, id="mysql-length"),
    pytest.param({"heroes": [OK_HERO, {**OK_HERO, "name": "a\x00b"}]},
                 r"heroes\[1\]\['name'\] contains a NUL character, which postgresql cannot store",
                 marks=ONLY_POSTGRESQL, id="postgresql-nul"),
    pytest.param({**ONE_EACH, "heroes": [{**OK_HERO, "age": 2**31}]},
                 r"heroes\[0\]\['age'\] must be between -2147483648 and 2147483647 on"
                 r" (postgresql|mysql|mariadb); got 2147483648",
                 marks=ONLY_SERVERS, id="server-int-range"),
]  # fmt: skip


@pytest.mark.parametrize(("arguments", "message"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_entry_with_nothing_written(
    heroes_session: Session, sql_log: RecordedSQL, arguments: dict[str, Any], message: str
) -> None:
    heroes_session.add(Team(name="Existing", headquarters="HQ"))
    heroes_session.commit()
    before = heroes_session.scalar(select(func.count()).select_from(Team))
    sql_log.clear()

    with pytest.raises(InvalidValueError, match=message):
        bulk_create(heroes_session, **arguments)
    assert [s for s in sql_log.dml() if s.verb != "SELECT"] == []
    # The session carries on: same data, and it can still write and commit.
    assert heroes_session.scalar(select(func.count()).select_from(Team)) == before
    assert heroes_session.scalar(select(func.count()).select_from(Hero)) == 0
    bulk_create(heroes_session, heroes=[OK_HERO], teams=[OK_TEAM], memberships=[(0, 0)])
    heroes_session.commit()
    assert heroes_session.scalar(select(func.count()).select_from(HeroTeamLink)) == 1


def test_invalid_input_error_is_a_value_error() -> None:
    """Callers catching ValueError for bad data catch this too."""
    assert issubclass(InvalidValueError, ValueError)
    assert issubclass(InvalidValueError, heroes_sa.HeroesError)


#: Bad values, each with the field it goes to, and the backends where it is bad.
SAME_PROBLEMS = [
    pytest.param("age", "old", id="type"),
    pytest.param("age", True, id="bool"),
    pytest.param("name", None, id="required"),
    pytest.param("name", 42, id="str-type"),
    pytest.param("age", 2**70, id="64-bit"),
    pytest.param("secret_name", "x\udc00", id="surrogate"),
    pytest.param("name", "x" * 1_000_000, marks=ONLY_MYSQL, id="length"),
    pytest.param("name", "a\x00b", marks=ONLY_POSTGRESQL, id="nul"),
    pytest.param("age", -(2**31) - 1, marks=ONLY_SERVERS, id="int-range"),
]


@pytest.mark.parametrize(("field", "value"), SAME_PROBLEMS)
def test_bulk_create_and_the_models_refuse_the_same_values_with_the_same_message(
    heroes_session: Session, sql_log: RecordedSQL, field: str, value: object
) -> None:
    """One definition of a valid value: the same problem text, whichever path."""
    hero: dict[str, Any] = {**OK_HERO, field: value}
    with pytest.raises(InvalidValueError) as bulk_refused:
        bulk_create(heroes_session, heroes=[OK_HERO, hero], teams=[OK_TEAM])  # type: ignore[list-item]
    assert [s for s in sql_log.dml() if s.verb != "SELECT"] == []
    bulk_message = str(bulk_refused.value)
    prefix = f"heroes[1][{field!r}] "
    assert bulk_message.startswith(prefix)
    assert len(bulk_message) < 200

    def through_the_models() -> None:
        heroes_session.add(Hero(**hero))
        heroes_session.flush()

    with pytest.raises(InvalidValueError) as orm_refused:
        through_the_models()
    assert str(orm_refused.value).startswith(f"Hero.{field} {bulk_message.removeprefix(prefix)}")
    heroes_session.rollback()
