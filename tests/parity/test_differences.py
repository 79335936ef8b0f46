"""Where heroes_sa deliberately behaves differently from SQLModel, each named and shown.

Every test here runs the same code on both implementations and asserts what
each one does.  Two differences come from heroes_sa's SQLite engine (foreign
keys enforced, real transactions): on PostgreSQL and MariaDB, where the server
does both for everyone, the same tests assert that the two agree.  The others
(equality, validation of bad input, constructor keywords) are in the classes
and hold on every backend.  One is in the programs: the chapter "Link Model with
Extra Fields" as SQLModel publishes it warns twice, heroes_sa's demo of it
does not.  Constraint names, repr and heroes_sa's own ``BEGIN`` are asserted in
test_schema.py and test_seed_flows.py.
"""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("sqlmodel", reason="the parity suite needs the 'parity' extra")

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError, SAWarning
from sqlalchemy.orm import Session

from heroes_sa import link_model, many_to_many, one_to_many
from tests.parity.conftest import DatabaseFactory
from tests.parity.harness import (
    LINK_MODEL,
    Side,
    heroes_side,
    open_session,
    record,
    sqlmodel_side,
    table_rows,
)

HEAD = "many_to_many"


def on_both(new_database: DatabaseFactory) -> list[tuple[Side, Engine]]:
    """heroes_sa's and SQLModel's head database, each made its own way."""
    return [
        (side, new_database(side.new_database)) for side in (heroes_side(HEAD), sqlmodel_side(HEAD))
    ]


def rows(session: Session, models: ModuleType = many_to_many) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of ``models``' schema, read through ``session``."""
    return table_rows(session, models.Base.metadata)


def dangling_links(session: Session) -> list[tuple[int, int]]:
    """Link rows naming a hero or a team that does not exist."""
    hero, team, link = (
        many_to_many.Hero.__table__,
        many_to_many.Team.__table__,
        many_to_many.HeroTeamLink.__table__,
    )
    query = select(link.c.team_id, link.c.hero_id).where(
        ~select(hero.c.id).where(hero.c.id == link.c.hero_id).exists()
        | ~select(team.c.id).where(team.c.id == link.c.team_id).exists()
    )
    return [(t, h) for t, h in session.execute(query)]


def test_a_link_row_naming_no_hero_or_team(new_database: DatabaseFactory) -> None:
    """Foreign keys: heroes_sa enforces them on SQLite too; SQLModel's SQLite does not."""
    outcome: dict[str, tuple[str, object]] = {}
    for side, engine in on_both(new_database):
        with open_session(side, engine) as session:
            session.add(side.models.HeroTeamLink(team_id=99, hero_id=99))
            try:
                session.commit()
                outcome[side.name] = ("stored", dangling_links(session))
            except IntegrityError as error:
                session.rollback()
                names_foreign_key = "FOREIGN KEY" in str(error.orig).upper()
                outcome[side.name] = ("refused", names_foreign_key)
                assert rows(session)["heroteamlink"] == []

    refused = ("refused", True)
    assert outcome["heroes_sa"] == refused
    if engine.dialect.name == "sqlite":
        assert outcome["sqlmodel"] == ("stored", [(99, 99)]), "plain SQLite stores it"
    else:
        assert outcome["sqlmodel"] == refused, "a server enforces them for both"


def test_deleting_a_team_that_a_new_hero_still_lists(new_database: DatabaseFactory) -> None:
    """The same difference, reached through relationship attributes only.

    The hero is added listing the team, the team is deleted, one commit: the
    unit of work inserts the link row and deletes the team.  On SQLite
    SQLModel commits a link to a team that is gone; heroes_sa refuses the
    commit, and after the rollback the database is as it was.
    """
    outcome = {}
    for side, engine in on_both(new_database):
        Hero, Team = side.models.Hero, side.models.Team  # noqa: N806 - class aliases
        with open_session(side, engine) as session:
            team = Team(name="Preventers", headquarters="Sharp Tower")
            session.add(team)
            session.commit()
            before = rows(session)
            session.add(Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[team]))
            session.delete(team)
            try:
                session.commit()
                outcome[side.name] = ("committed", dangling_links(session))
            except IntegrityError:
                session.rollback()
                outcome[side.name] = ("refused", [])
                assert rows(session) == before
                assert session.scalar(select(func.count()).select_from(Team)) == 1

    assert outcome["heroes_sa"] == ("refused", [])
    if engine.dialect.name == "sqlite":
        (team_id, _hero_id), *more = outcome["sqlmodel"][1]
        assert outcome["sqlmodel"][0] == "committed"
        assert more == []
        assert team_id == 1, "the link names the deleted team"
    else:
        assert outcome["sqlmodel"] == outcome["heroes_sa"]


def test_rolling_back_undoes_work_released_from_a_savepoint(new_database: DatabaseFactory) -> None:
    """Transactions: heroes_sa's SQLite keeps SAVEPOINT inside the outer transaction.

    Python's sqlite3 driver, as SQLModel uses it, sends no BEGIN before a
    SAVEPOINT, so the savepoint is the outermost transaction and releasing it
    commits; the outer rollback then undoes nothing.  heroes_sa's engine
    begins first (SQLAlchemy's documented fix), as a server does anyway.
    """
    kept = {}
    for side, engine in on_both(new_database):
        with open_session(side, engine) as session:
            session.begin()
            with session.begin_nested():
                session.add(side.models.Team(name="Preventers", headquarters="Sharp Tower"))
            session.rollback()
            kept[side.name] = rows(session)["team"]

    assert kept["heroes_sa"] == []
    if engine.dialect.name == "sqlite":
        assert kept["sqlmodel"] == [(1, "Preventers", "Sharp Tower")]
    else:
        assert kept["sqlmodel"] == []


def test_expired_heroes_are_not_equal_to_each_other(new_database: DatabaseFactory) -> None:
    """Equality: a heroes_sa object equals only itself; SQLModel's compare field values.

    After a commit every object is expired, no field loaded, and Pydantic's
    ``__eq__`` then finds any two heroes equal.  A list's ``remove()`` takes
    the first equal item, and SQLAlchemy calls it to keep ``team.heroes`` in
    step when ``hero.team`` changes: the wrong hero leaves the team, and the
    flush writes what the objects no longer say.
    """
    one_to_many_sides = (heroes_side("one_to_many"), sqlmodel_side("one_to_many"))
    team_ids = {}
    for side in one_to_many_sides:
        engine = new_database(side.new_database)
        Hero, Team = side.models.Hero, side.models.Team  # noqa: N806 - class aliases
        with open_session(side, engine) as session:
            rusty = Hero(name="Rusty-Man", secret_name="Tommy Sharp")
            spider = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
            session.add_all([rusty, spider])
            session.commit()
            equal = rusty == spider

            preventers = Team(name="Preventers", headquarters="Sharp Tower")
            preventers.heroes = [spider, rusty]
            session.add(preventers)
            rusty.team = None  # Rusty-Man leaves before the first flush
            in_team = [h is spider for h in preventers.heroes]
            session.commit()
            team_ids[side.name] = (equal, in_team, rows(session, one_to_many)["hero"])

    assert team_ids["heroes_sa"] == (
        False,
        [True],
        [
            (1, "Rusty-Man", "Tommy Sharp", None, None),
            (2, "Spider-Boy", "Pedro Parqueador", None, 1),
        ],
    )
    assert team_ids["sqlmodel"] == (
        True,
        [False],  # Spider-Boy was removed in Rusty-Man's place...
        # ...and both end up in the team, though rusty.team is None.
        [(1, "Rusty-Man", "Tommy Sharp", None, 1), (2, "Spider-Boy", "Pedro Parqueador", None, 1)],
    )


# --- bad input (heroes_sa.validation) ------------------------------------------


def add_hero_without_name(session: Session, models: ModuleType) -> None:
    session.add(models.Hero(secret_name="Dive Wilson"))


def add_hero_with_text_age(session: Session, models: ModuleType) -> None:
    session.add(models.Hero(name="Deadpond", secret_name="Dive Wilson", age="old"))


def add_hero_in_one_team_twice(session: Session, models: ModuleType) -> None:
    team = models.Team(name="Preventers", headquarters="Sharp Tower")
    session.add(models.Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[team, team]))


def link_a_deleted_hero(session: Session, models: ModuleType) -> None:
    hero = models.Hero(name="Deadpond", secret_name="Dive Wilson")
    team = models.Team(name="Preventers", headquarters="Sharp Tower")
    session.add_all([hero, team])
    session.commit()
    session.delete(hero)
    session.commit()
    team.heroes.append(hero)


def add_hero_with_300_character_name(session: Session, models: ModuleType) -> None:
    session.add(models.Hero(name="D" * 300, secret_name="Dive Wilson"))


AT_CALL, AT_COMMIT = "refused at the call", "refused at commit"

#: Per case: what heroes_sa does, and what SQLModel does on sqlite / postgresql / mysql.
BAD_INPUT: dict[str, tuple[Any, Any, dict[str, tuple[str, str]]]] = {
    "required field missing": (
        add_hero_without_name,
        (AT_CALL, "InvalidValueError"),
        dict.fromkeys(("sqlite", "postgresql", "mysql"), (AT_COMMIT, "IntegrityError")),
    ),
    "text for an int": (
        add_hero_with_text_age,
        (AT_CALL, "InvalidValueError"),
        {
            # SQLite's INTEGER affinity keeps text it cannot convert.
            "sqlite": ("stored", "(1, 'Deadpond', 'Dive Wilson', 'old')"),
            "postgresql": (AT_COMMIT, "DataError"),
            "mysql": (AT_COMMIT, "DataError"),
        },
    ),
    "one team twice in hero.teams": (
        add_hero_in_one_team_twice,
        (AT_CALL, "InvalidValueError"),
        dict.fromkeys(("sqlite", "postgresql", "mysql"), (AT_COMMIT, "IntegrityError")),
    ),
    "a deleted hero linked": (
        link_a_deleted_hero,
        (AT_CALL, "InvalidValueError"),
        # SQLAlchemy refuses it too, as it cascades the hero into the session:
        # "Instance '<Hero at 0x...>' has been deleted.  Use the make_transient()
        # function...", naming neither the relationship nor the hero.
        dict.fromkeys(("sqlite", "postgresql", "mysql"), (AT_CALL, "InvalidRequestError")),
    ),
    "a name longer than the column": (
        add_hero_with_300_character_name,
        # Only MySQL/MariaDB give the column a length; heroes_sa checks it
        # against the dialect before the row is sent.
        None,
        {
            "sqlite": ("stored", "(1, '" + "D" * 300 + "', 'Dive Wilson', None)"),
            "postgresql": ("stored", "(1, '" + "D" * 300 + "', 'Dive Wilson', None)"),
            "mysql": (AT_COMMIT, "DataError"),
        },
    ),
}


def attempt(side: Side, engine: Engine, action: Any) -> tuple[str, str]:
    """Run ``action`` and commit: where it was refused and with what, or the heroes stored."""
    with open_session(side, engine) as session:
        try:
            action(session, side.models)
        except Exception as error:
            return AT_CALL, type(error).__name__
        try:
            session.commit()
        except Exception as error:
            return AT_COMMIT, type(error).__name__
        return "stored", ", ".join(map(repr, rows(session)["hero"]))


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input(case: str, new_database: DatabaseFactory) -> None:
    """Bad input: heroes_sa refuses it at the call that makes it, naming it.

    SQLModel's table models do not validate: the database objects at commit
    with its own message, or, on SQLite, stores the value as given.
    """
    action, ours_expected, theirs_expected = BAD_INPUT[case]
    (ours_side, ours_engine), (theirs_side, theirs_engine) = on_both(new_database)
    backend = (
        "mysql" if ours_engine.dialect.name in {"mysql", "mariadb"} else ours_engine.dialect.name
    )
    ours = attempt(ours_side, ours_engine, action)
    theirs = attempt(theirs_side, theirs_engine, action)

    if ours_expected is None:  # the string length: checked at the flush, where known
        ours_expected = (AT_COMMIT, "InvalidValueError") if backend == "mysql" else theirs
    assert ours == ours_expected
    assert theirs == theirs_expected[backend]


def test_an_unknown_keyword_argument() -> None:
    """heroes_sa's constructor (SQLAlchemy's) names it; a SQLModel table model drops it."""
    with pytest.raises(TypeError, match="'nam' is an invalid keyword argument for Hero"):
        heroes_side(HEAD).models.Hero(name="Deadpond", secret_name="Dive Wilson", nam="Dead")

    hero = sqlmodel_side(HEAD).models.Hero(name="Deadpond", secret_name="Dive Wilson", nam="Dead")
    assert "nam" not in hero.model_dump()
    assert not hasattr(hero, "nam"), "the value went nowhere"


# --- the chapter "Link Model with Extra Fields" ---------------------------------


def create_memberships(session: Session, models: ModuleType) -> None:
    """The chapter's first function: four memberships as link objects, one commit."""
    Hero, Team, HeroTeamLink = models.Hero, models.Team, models.HeroTeamLink  # noqa: N806
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    deadpond = Hero(name="Deadpond", secret_name="Dive Wilson")
    spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    session.add(HeroTeamLink(team=z_force, hero=deadpond))
    session.add(HeroTeamLink(team=preventers, hero=spider_boy, is_training=True))
    session.commit()


def add_spider_boy_to_z_force(session: Session, models: ModuleType, *, as_published: bool) -> None:
    """The chapter's second function, up to its first commit.

    ``as_published``: as the tutorial has it, appending the new link to
    ``team_z_force.hero_links``, where back_populates has already listed it.
    Otherwise as heroes_sa's demo does it: the link only joins the session.
    """
    Hero, Team = models.Hero, models.Team  # noqa: N806 - class aliases
    spider_boy = session.scalars(select(Hero).where(Hero.name == "Spider-Boy")).one()
    z_force = session.scalars(select(Team).where(Team.name == "Z-Force")).one()
    link = models.HeroTeamLink(team=z_force, hero=spider_boy, is_training=True)
    if as_published:
        z_force.hero_links.append(link)
        session.add(z_force)
    else:
        session.add(link)
    session.commit()


def second_function(
    session: Session, engine: Engine, models: ModuleType, as_published: bool
) -> tuple[list[str], list[str]]:
    """The SAWarnings :func:`add_spider_boy_to_z_force` raises (sorted), and the SQL it sends."""
    with warnings.catch_warnings(record=True) as caught, record(engine) as log:
        warnings.simplefilter("always")
        add_spider_boy_to_z_force(session, models, as_published=as_published)
    found = sorted(str(w.message).split(" (")[0] for w in caught if w.category is SAWarning)
    sent = [s.sql for t in log.transactions for s in t.statements if s.verb != "BEGIN"]
    return found, sent


def test_the_chapters_program_warns_twice_in_sqlmodel_and_not_in_heroes_sa(
    new_database: DatabaseFactory,
) -> None:
    """SQLModel's program for the chapter emits two SAWarnings; heroes_sa's demo none.

    The tutorial appends the new link to ``team_z_force.hero_links``, where
    back_populates has already put it.  The append first loads the
    collection, and that load's autoflush runs while the link is not in the
    session yet (SQLAlchemy 2.0 no longer cascades an object into the
    session through a backref): two warnings.  They come from the order, not
    the classes: the same steps warn on heroes_sa's models too.  heroes_sa's
    demo (:func:`heroes_sa.demo.link_model_flow`) leaves the append out and
    adds the link to the session: the same rows, no warning, on either
    implementation, and one SELECT fewer (the load the append needs).
    """
    published = [
        f"Object of type <HeroTeamLink> not in session, add operation along '{path}' will"
        " not proceed"
        for path in ("Hero.team_links", "Team.hero_links")
    ]
    for side in (heroes_side(LINK_MODEL), sqlmodel_side(LINK_MODEL)):
        sent = {}
        for as_published in (True, False):
            engine = new_database(side.new_database)
            with open_session(side, engine) as session:
                create_memberships(session, side.models)
                found, sent[as_published] = second_function(
                    session, engine, side.models, as_published
                )
                assert found == (published if as_published else []), (side.name, as_published)
                assert rows(session, link_model)["heroteamlink"] == [
                    (1, 1, False),
                    (1, 2, True),
                    (2, 2, True),
                ]
        (load,) = [sql for sql in sent[True] if sql not in sent[False]]
        assert load.startswith("SELECT heroteamlink.team_id"), load
        assert [sql for sql in sent[True] if sql != load] == sent[False]
