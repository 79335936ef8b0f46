"""Misuse of the models fails early and clearly, and loses nothing."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from heroes_sa import many_to_many, one_to_many
from heroes_sa.errors import InvalidValueError
from heroes_sa.many_to_many import Hero, HeroTeamLink, Team
from heroes_sa.validation import check_strings


def table_rows(session: Session) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every head table, as the database holds it."""
    return {
        name: [tuple(r) for r in session.execute(sa.select(table).order_by(*table.primary_key))]
        for name, table in many_to_many.Base.metadata.tables.items()
    }


@pytest.fixture
def saved(heroes_session: Session) -> tuple[Hero, Team]:
    """A hero in one team, committed (inside the test's outer transaction)."""
    team = Team(name="Preventers", headquarters="Sharp Tower")
    hero = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, teams=[team])
    heroes_session.add(hero)
    heroes_session.commit()
    return hero, team


# --- columns ------------------------------------------------------------------


def test_missing_required_fields_are_named_at_construction() -> None:
    with pytest.raises(InvalidValueError, match=r"Hero\(\) is missing required 'secret_name'"):
        Hero(name="Deadpond")
    with pytest.raises(InvalidValueError, match=r"'name', 'headquarters'"):
        Team()
    with pytest.raises(InvalidValueError, match=r"HeroTeamLink\(\) is missing required 'hero_id'"):
        HeroTeamLink(team_id=1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", None, r"Hero\.name is required; got None"),
        ("secret_name", None, r"Hero\.secret_name is required; got None"),
        ("name", 42, r"Hero\.name must be a str; got int 42"),
        ("age", "old", r"Hero\.age must be an int; got str 'old'"),
        ("age", True, r"Hero\.age must be an int; got bool True"),
        ("age", 3.5, r"Hero\.age must be an int; got float 3\.5"),
    ],
)
def test_bad_values_are_refused_as_they_are_set(
    saved: tuple[Hero, Team], heroes_session: Session, field: str, value: object, message: str
) -> None:
    hero, _ = saved
    before = table_rows(heroes_session)
    with pytest.raises(InvalidValueError, match=message):
        Hero(**{"name": "N", "secret_name": "S", field: value})
    with pytest.raises(InvalidValueError, match=message):
        setattr(hero, field, value)
    assert field not in {a.key for a in sa.inspect(hero).attrs if a.history.has_changes()}
    heroes_session.commit()
    assert table_rows(heroes_session) == before


def test_nullable_columns_take_none_and_sql_expressions(
    saved: tuple[Hero, Team], heroes_session: Session
) -> None:
    hero, _ = saved
    hero.age = None
    heroes_session.commit()
    hero.age = sa.literal(40) + 1
    heroes_session.commit()
    assert hero.age == 41


# --- relationships ------------------------------------------------------------------


def test_the_same_team_twice_is_refused_on_append(
    saved: tuple[Hero, Team], heroes_session: Session
) -> None:
    hero, team = saved
    before = table_rows(heroes_session)
    with pytest.raises(
        InvalidValueError, match=r"Hero\(id=\d+, name='Rusty-Man'.*\.teams already holds Team"
    ):
        hero.teams.append(team)
    with pytest.raises(InvalidValueError, match=r"\.heroes already holds Hero"):
        team.heroes.append(hero)
    heroes_session.commit()
    assert table_rows(heroes_session) == before


def test_the_same_team_twice_in_one_list_is_refused() -> None:
    team = Team(name="Z-Force", headquarters="Bar")
    with pytest.raises(
        InvalidValueError, match=r"Hero\.teams was given Team\(.*'Z-Force'.*\) twice"
    ):
        Hero(name="Deadpond", secret_name="Dive Wilson", teams=[team, team])
    assert team.heroes == []


def test_revisions_cannot_be_mixed() -> None:
    old_team = one_to_many.Team(name="Z-Force", headquarters="Bar")
    with pytest.raises(
        InvalidValueError,
        match=r"Hero\.teams takes heroes_sa\.many_to_many\.Team objects;"
        r" got heroes_sa\.one_to_many\.Team",
    ):
        Hero(name="Deadpond", secret_name="Dive Wilson", teams=[old_team])
    with pytest.raises(InvalidValueError, match=r"Hero\.team takes heroes_sa\.one_to_many\.Team"):
        one_to_many.Hero(
            name="Deadpond", secret_name="Dive Wilson", team=Team(name="Z", headquarters="B")
        )
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    with pytest.raises(InvalidValueError, match="cannot be mixed"):
        hero.teams.append(old_team)  # type: ignore[arg-type]
    assert hero.teams == []


def test_a_deleted_team_cannot_be_linked(saved: tuple[Hero, Team], heroes_session: Session) -> None:
    hero, team = saved
    other = Team(name="Z-Force", headquarters="Bar")
    heroes_session.add(other)
    heroes_session.commit()
    heroes_session.delete(other)
    with pytest.raises(InvalidValueError, match=r"Team\(.*'Z-Force'.*\) has been deleted"):
        hero.teams.append(other)
    heroes_session.commit()
    with pytest.raises(InvalidValueError, match="has been deleted"):
        hero.teams.append(other)  # deleted and committed: detached, but deleted first
    heroes_session.rollback()
    assert [t.name for t in hero.teams] == [team.name]


def test_a_detached_team_cannot_be_linked(
    saved: tuple[Hero, Team], heroes_session: Session
) -> None:
    hero, _ = saved
    stray = Team(name="Z-Force", headquarters="Bar")
    heroes_session.add(stray)
    heroes_session.commit()
    heroes_session.expunge(stray)
    with pytest.raises(
        InvalidValueError,
        match=r"is detached from its session; bring it back with session\.merge\(\)",
    ):
        hero.teams.append(stray)
    hero.teams.append(heroes_session.merge(stray))
    heroes_session.commit()
    assert sorted(t.name for t in hero.teams) == ["Preventers", "Z-Force"]


@pytest.mark.parametrize("missing", ["hero", "team"])
def test_a_link_row_to_a_missing_row_is_refused_by_the_database(
    saved: tuple[Hero, Team], heroes_session: Session, missing: str
) -> None:
    hero, team = saved
    before = table_rows(heroes_session)
    link = HeroTeamLink(team_id=team.id, hero_id=hero.id)
    if missing == "hero":
        link.hero_id = 999
    else:
        link.team_id = 999
    heroes_session.add(link)
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        heroes_session.commit()
    heroes_session.rollback()
    assert table_rows(heroes_session) == before
    heroes_session.add(Team(name="After", headquarters="H"))
    heroes_session.commit()


# --- strings the database cannot store ------------------------------------------------


def dialect(name: str) -> sa.Dialect:
    """A dialect of backend ``name``, with no driver needed."""
    return sa.make_url(f"{name}://").get_dialect()()


def fake_connection(dialect: sa.Dialect) -> Connection:
    return cast(Connection, SimpleNamespace(dialect=dialect))


def test_too_long_for_mysql_is_refused_naming_the_field() -> None:
    hero = Hero(name="x" * 256, secret_name="ok")
    with pytest.raises(
        InvalidValueError,
        match=r"Hero\.name is 256 characters long; the mysql column holds at most 255",
    ):
        check_strings(fake_connection(dialect("mysql")), hero)
    check_strings(fake_connection(dialect("sqlite")), hero)
    check_strings(fake_connection(dialect("postgresql")), hero)
    check_strings(fake_connection(dialect("mysql")), Hero(name="x" * 255, secret_name="ok"))


def test_nul_is_refused_on_postgresql_only() -> None:
    hero = Hero(name="a\x00b", secret_name="ok")
    with pytest.raises(InvalidValueError, match=r"Hero\.name contains a NUL character"):
        check_strings(fake_connection(dialect("postgresql")), hero)
    check_strings(fake_connection(dialect("sqlite")), hero)


@pytest.mark.backends("mysql", reason="only MySQL/MariaDB give string columns a length")
def test_a_string_too_long_for_mariadb_fails_before_it_is_sent(
    saved: tuple[Hero, Team], heroes_session: Session
) -> None:
    before = table_rows(heroes_session)
    heroes_session.add(Hero(name="n" * 256, secret_name="ok"))
    with pytest.raises(InvalidValueError, match=r"Hero\.name is 256 characters long"):
        heroes_session.commit()
    heroes_session.rollback()
    assert table_rows(heroes_session) == before
    heroes_session.add(Hero(name="n" * 255, secret_name="ok"))
    heroes_session.commit()


@pytest.mark.backends("postgresql", reason="only PostgreSQL refuses the NUL character")
def test_nul_fails_before_it_is_sent_to_postgresql(heroes_session: Session) -> None:
    heroes_session.add(Hero(name="a\x00b", secret_name="ok"))
    with pytest.raises(InvalidValueError, match="NUL character"):
        heroes_session.commit()
    heroes_session.rollback()
    assert heroes_session.scalars(sa.select(Hero)).all() == []


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.one_of(
        st.text(min_size=1, max_size=80),
        st.sampled_from(["O'Brien", 'say "hi"', "'; DROP TABLE hero; --", "\\ %_ ?", "名前 🦸‍♀️"]),
    ),
    secret=st.text(max_size=80),
)
def test_any_text_round_trips_unchanged(heroes_session: Session, name: str, secret: str) -> None:
    if heroes_session.get_bind().dialect.name == "postgresql":
        # PostgreSQL cannot store NUL; that refusal has its own test above.
        assume("\x00" not in name + secret)
    hero = Hero(name=name, secret_name=secret, teams=[Team(name=name, headquarters=secret)])
    heroes_session.add(hero)
    heroes_session.commit()
    heroes_session.expire_all()
    found = heroes_session.scalars(sa.select(Hero).where(Hero.name == name)).one()
    assert (found.name, found.secret_name) == (name, secret)
    assert [(t.name, t.headquarters) for t in found.teams] == [(name, secret)]
    heroes_session.delete(found)
    heroes_session.delete(found.teams[0])
    heroes_session.commit()
