"""Misuse of the models fails early and clearly, and loses nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import ForeignKey
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from heroes_sa import many_to_many, one_to_many
from heroes_sa.base import SHOWN_LENGTH
from heroes_sa.errors import InvalidValueError
from heroes_sa.many_to_many import Hero, HeroTeamLink, Team
from heroes_sa.testing import RecordedSQL
from heroes_sa.validation import Validated, check_for_dialect

#: The largest INTEGER of each backend (SQLite's are all 64-bit).
INTEGER_MAX = {"sqlite": 2**63 - 1, "postgresql": 2**31 - 1, "mysql": 2**31 - 1}


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
        # Values no database can store:
        pytest.param("age", 2**70, r"Hero\.age must be between -9223372036854775808 and"
                     r" 9223372036854775807; got 1180591620717411303424$", id="2**70"),
        pytest.param("age", -(2**63) - 1, r"Hero\.age must be between", id="-2**63-1"),
        pytest.param("age", 10**5000, r"Hero\.age must be between .*; got an int of 16,610 bits$",
                     id="10**5000"),
        pytest.param("name", "\ud800", r"Hero\.name holds a lone surrogate \('\\ud800' at index"
                     r" 0\), which no database can store", id="surrogate"),
        pytest.param("secret_name", "ok \udfff", r"Hero\.secret_name holds a lone surrogate .* at"
                     r" index 3", id="surrogate-inside"),
    ],
)  # fmt: skip
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


def test_a_list_holding_current_members_may_be_assigned(
    saved: tuple[Hero, Team], heroes_session: Session
) -> None:
    """Only a repeat within the list is refused; the members it keeps are fine."""
    hero, team = saved
    other = Team(name="Z-Force", headquarters="Bar")
    hero.teams = [*hero.teams, other]
    heroes_session.commit()
    hero.teams = [t for t in hero.teams if t is other]
    heroes_session.commit()
    heroes_session.expire_all()
    assert [t.name for t in hero.teams] == ["Z-Force"]
    assert team.heroes == []


# --- a deleted object as the owner --------------------------------------------------------


@pytest.fixture
def deleted_hero(saved: tuple[Hero, Team], heroes_session: Session) -> Hero:
    """The saved hero, deleted and flushed (the deletion not yet committed)."""
    hero, _ = saved
    heroes_session.delete(hero)
    heroes_session.flush()
    return hero


@pytest.mark.usefixtures("heroes_restart_identities")  # the literal ids below
def test_nothing_joins_a_deleted_hero(
    saved: tuple[Hero, Team], deleted_hero: Hero, heroes_session: Session, sql_log: RecordedSQL
) -> None:
    _, team = saved
    sql_log.clear()
    deleted = r"Hero\.teams: Hero\(id=\d+, name='Rusty-Man'.*\) has been deleted; nothing"
    with pytest.raises(InvalidValueError, match=deleted):
        deleted_hero.teams.append(Team(name="Z-Force", headquarters="Bar"))
    with pytest.raises(InvalidValueError, match=deleted):
        deleted_hero.teams.append(team)
    with pytest.raises(InvalidValueError, match=deleted):
        deleted_hero.teams = [Team(name="Z-Force", headquarters="Bar")]
    with pytest.raises(InvalidValueError, match=r"Team\.heroes: Hero\(.*\) has been deleted and"):
        team.heroes.append(deleted_hero)
    assert [s for s in sql_log.dml() if s.verb in ("INSERT", "UPDATE", "DELETE")] == []
    heroes_session.rollback()
    # Back to the saved state: the hero undeleted, in its one team, and no other team.
    assert table_rows(heroes_session) == {
        "hero": [(1, "Rusty-Man", "Tommy Sharp", 48)],
        "team": [(1, "Preventers", "Sharp Tower")],
        "heroteamlink": [(1, 1)],
    }
    heroes_session.add(Team(name="After", headquarters="H"))
    heroes_session.commit()


def test_nothing_joins_a_deleted_team(saved: tuple[Hero, Team], heroes_session: Session) -> None:
    hero, team = saved
    heroes_session.delete(team)
    heroes_session.flush()
    with pytest.raises(InvalidValueError, match=r"Team\.heroes: Team\(.*\) has been deleted;"):
        team.heroes.append(Hero(name="Deadpond", secret_name="Dive Wilson"))
    heroes_session.rollback()
    assert [t.name for t in hero.teams] == ["Preventers"]


@pytest.mark.heroes_revision(one_to_many.REVISION)
def test_no_team_is_given_to_a_deleted_hero_of_one_to_many(heroes_session: Session) -> None:
    team = one_to_many.Team(name="Preventers", headquarters="Sharp Tower")
    hero = one_to_many.Hero(name="Rusty-Man", secret_name="Tommy Sharp", team=team)
    heroes_session.add(hero)
    heroes_session.commit()
    heroes_session.delete(hero)
    heroes_session.flush()
    deleted = r"Hero\.team: Hero\(.*'Rusty-Man'.*\) has been deleted; nothing can be linked"
    with pytest.raises(InvalidValueError, match=deleted):
        hero.team = one_to_many.Team(name="Z-Force", headquarters="Bar")
    with pytest.raises(InvalidValueError, match=deleted):
        hero.team = team
    with pytest.raises(InvalidValueError, match=r"Team\.heroes: Hero\(.*\) has been deleted and"):
        team.heroes.append(hero)
    heroes_session.rollback()
    assert heroes_session.scalars(sa.select(one_to_many.Team.name)).all() == ["Preventers"]
    assert heroes_session.scalars(sa.select(one_to_many.Hero.team_id)).all() == [team.id]
    heroes_session.add(one_to_many.Hero(name="After", secret_name="S", team=team))
    heroes_session.commit()


# --- every model, present and future ------------------------------------------------------


def every_column() -> list[Any]:
    return [
        pytest.param(mapper, attribute.key, id=f"{mapper.class_.__module__}.{attribute}")
        for base in (one_to_many.Base, many_to_many.Base)
        for mapper in base.registry.mappers
        for attribute in mapper.column_attrs
    ]


@pytest.mark.parametrize(("mapper", "key"), every_column())
def test_every_column_of_every_model_checks_its_values(
    mapper: sa.orm.Mapper[Any], key: str
) -> None:
    obj = mapper.class_manager.new_instance()  # instrumented, __init__ not run
    with pytest.raises(InvalidValueError, match=rf"^{mapper.class_.__name__}\.{key} must be an? "):
        setattr(obj, key, object())


class Base(Validated, DeclarativeBase):
    """A models module written after heroes_sa, the way issue 14's link model will be."""


class Squad(Base):
    __tablename__ = "squad"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    member_links: Mapped[list[Membership]] = relationship(back_populates="squad")


class Membership(Base):
    """A link model with a field of its own."""

    __tablename__ = "membership"

    squad_id: Mapped[int] = mapped_column(ForeignKey("squad.id"), primary_key=True)
    hero_name: Mapped[str] = mapped_column(primary_key=True)
    is_training: Mapped[bool]
    squad: Mapped[Squad] = relationship(back_populates="member_links")


def test_a_new_model_and_field_get_the_rules_from_their_types() -> None:
    squad = Squad(name="Z")
    with pytest.raises(InvalidValueError, match=r"Membership\(\) is missing required 'hero_name',"
                       r" 'is_training'"):  # fmt: skip
        Membership(squad=squad)
    with pytest.raises(
        InvalidValueError, match=r"Membership\.is_training must be a bool; got int 1"
    ):
        Membership(squad_id=1, hero_name="Deadpond", is_training=1)
    mixed = r"Membership\.squad takes tests\.test_validation\.Squad objects; got heroes_sa\."
    with pytest.raises(InvalidValueError, match=rf"{mixed}many_to_many\.Team .* cannot be mixed"):
        Membership(hero_name="Deadpond", is_training=False, squad=Team(name="T", headquarters="H"))
    link = Membership(hero_name="Deadpond", is_training=True, squad=squad)
    with pytest.raises(InvalidValueError, match=r"\.member_links already holds Membership"):
        squad.member_links.append(link)
    assert squad.member_links == [link]


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


# --- values no database can store ----------------------------------------------------


def backend(session: Session) -> str:
    name = session.get_bind().dialect.name
    return "mysql" if name == "mariadb" else name


def test_the_integer_range_of_this_database_is_enforced_before_sending(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    """The largest INTEGER is stored; one more is refused naming the range, nothing sent."""
    largest = INTEGER_MAX[backend(heroes_session)]
    heroes_session.add(Hero(name="Old", secret_name="S", age=largest))
    heroes_session.commit()
    heroes_session.expire_all()
    assert heroes_session.scalars(sa.select(Hero.age)).all() == [largest]
    before = table_rows(heroes_session)
    sql_log.clear()

    def add_one_more() -> None:
        # On SQLite the constructor refuses (no database goes beyond 64 bits);
        # on a server, the flush does, before the row is sent.
        heroes_session.add(Hero(name="Older", secret_name="S", age=largest + 1))
        heroes_session.commit()

    out_of_range = rf"^Hero\.age must be between -{largest + 1} and {largest}( on \w+)?; got"
    with pytest.raises(InvalidValueError, match=rf"{out_of_range} {largest + 1}\b"):
        add_one_more()
    assert [s for s in sql_log.dml() if s.table == "hero"] == []
    heroes_session.rollback()
    assert table_rows(heroes_session) == before
    heroes_session.add(Hero(name="After", secret_name="S", age=-largest - 1))
    heroes_session.commit()


def test_any_other_unicode_is_accepted() -> None:
    hero = Hero(name="名前 🦸‍♀️", secret_name="Ünïcödé")
    hero.name = "\U0010ffff"
    assert hero.name == "\U0010ffff"


def test_messages_show_long_values_cut_with_their_length() -> None:
    with pytest.raises(InvalidValueError) as refused:
        Hero(name="N", secret_name="S", age="x" * 1_000_000)
    message = str(refused.value)
    assert message.startswith("Hero.age must be an int; got str 'xxx")
    assert message.endswith("... (1,000,000 characters)")
    assert len(message) < 2 * SHOWN_LENGTH + 60
    with pytest.raises(InvalidValueError) as refused:
        Hero(name="N", secret_name=["x" * 1000] * 1000)
    assert len(str(refused.value)) < 2 * SHOWN_LENGTH + 60
    assert str(refused.value).endswith(f"({len(repr(['x' * 1000] * 1000)):,} characters)")


# --- values this database cannot store --------------------------------------------------


def dialect(name: str) -> sa.Dialect:
    """A dialect of backend ``name``, with no driver needed."""
    return sa.make_url(f"{name}://").get_dialect()()


def test_too_long_for_mysql_is_refused_naming_the_field() -> None:
    hero = Hero(name="x" * 256, secret_name="ok")
    with pytest.raises(
        InvalidValueError,
        match=r"Hero\.name is 256 characters long; the mysql column holds at most 255",
    ):
        check_for_dialect(sa.inspect(hero), dialect("mysql"))
    check_for_dialect(sa.inspect(hero), dialect("sqlite"))
    check_for_dialect(sa.inspect(hero), dialect("postgresql"))
    check_for_dialect(sa.inspect(Hero(name="x" * 255, secret_name="ok")), dialect("mysql"))


def test_nul_is_refused_on_postgresql_only() -> None:
    hero = Hero(name="a\x00b", secret_name="ok")
    with pytest.raises(InvalidValueError, match=r"Hero\.name contains a NUL character"):
        check_for_dialect(sa.inspect(hero), dialect("postgresql"))
    check_for_dialect(sa.inspect(hero), dialect("sqlite"))


@pytest.mark.parametrize("name", ["mysql", "mariadb", "postgresql"])
def test_32_bit_integer_columns_on_servers(name: str) -> None:
    hero = Hero(name="N", secret_name="S", age=2**31)
    with pytest.raises(
        InvalidValueError, match=rf"Hero\.age must be between -2147483648 and 2147483647 on {name}"
    ):
        check_for_dialect(sa.inspect(hero), dialect(name))
    check_for_dialect(sa.inspect(hero), dialect("sqlite"))
    hero.age = 2**31 - 1
    check_for_dialect(sa.inspect(hero), dialect(name))


@pytest.mark.backends("mysql", reason="only MySQL/MariaDB give string columns a length")
def test_a_string_too_long_for_mariadb_fails_before_it_is_sent(
    saved: tuple[Hero, Team], heroes_session: Session, sql_log: RecordedSQL
) -> None:
    before = table_rows(heroes_session)
    sql_log.clear()
    heroes_session.add(Hero(name="n" * 256, secret_name="ok"))
    with pytest.raises(InvalidValueError, match=r"Hero\.name is 256 characters long"):
        heroes_session.commit()
    assert [s for s in sql_log.dml() if s.table == "hero"] == []
    heroes_session.rollback()
    assert table_rows(heroes_session) == before
    heroes_session.add(Hero(name="n" * 255, secret_name="ok"))
    heroes_session.commit()


@pytest.mark.backends("mysql", reason="only MySQL/MariaDB give string columns a length")
def test_a_megabyte_name_gets_a_short_message_on_mariadb(heroes_session: Session) -> None:
    heroes_session.add(Hero(name="n" * 1_000_000, secret_name="ok"))
    with pytest.raises(InvalidValueError) as refused:
        heroes_session.commit()
    message = str(refused.value)
    assert message.startswith("Hero.name is 1,000,000 characters long; the mysql column")
    assert "... (1,000,000 characters)" in message
    assert len(message) < 300
    heroes_session.rollback()


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
