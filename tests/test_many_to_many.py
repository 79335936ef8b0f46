"""The many-to-many tutorial page, asserted on data and on the SQL sent."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from heroes_sa.demo import many_to_many_flow
from heroes_sa.many_to_many import Hero, HeroTeamLink, Team
from heroes_sa.testing import RecordedSQL

# These tests assert the ids the tutorial prints, which the servers hand out
# from counters that rolled-back tests moved on: restart them per test.
pytestmark = pytest.mark.usefixtures("heroes_restart_identities")

#: What the many-to-many tutorial program prints, objects shown by heroes_sa's repr.
M2M_LINES = [
    "Deadpond: Hero(id=1, name='Deadpond', secret_name='Dive Wilson', age=None)",
    "Deadpond teams: [Team(id=1, name='Z-Force', headquarters=\"Sister Margaret's Bar\"),"
    " Team(id=2, name='Preventers', headquarters='Sharp Tower')]",
    "Rusty-Man: Hero(id=2, name='Rusty-Man', secret_name='Tommy Sharp', age=48)",
    "Rusty-Man Teams: [Team(id=2, name='Preventers', headquarters='Sharp Tower')]",
    "Spider-Boy: Hero(id=3, name='Spider-Boy', secret_name='Pedro Parqueador', age=None)",
    "Spider-Boy Teams: [Team(id=2, name='Preventers', headquarters='Sharp Tower')]",
]


def memberships(session: Session) -> set[tuple[str, str]]:
    """(hero name, team name) for every link row."""
    rows = session.execute(
        select(Hero.name, Team.name)
        .join(HeroTeamLink, HeroTeamLink.hero_id == Hero.id)
        .join(Team, Team.id == HeroTeamLink.team_id)
    )
    return {(hero, team) for hero, team in rows}


def test_flow_prints_the_tutorial_lines(heroes_session: Session) -> None:
    out = io.StringIO()
    many_to_many_flow(heroes_session, out)
    assert out.getvalue().splitlines() == M2M_LINES
    assert memberships(heroes_session) == {
        ("Deadpond", "Z-Force"),
        ("Deadpond", "Preventers"),
        ("Rusty-Man", "Preventers"),
        ("Spider-Boy", "Preventers"),
    }


def test_one_commit_saves_heroes_then_teams_then_links_in_one_executemany(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    heroes_session.add(
        Hero(name="Deadpond", secret_name="Dive Wilson", teams=[z_force, preventers])
    )
    heroes_session.add(
        Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, teams=[preventers])
    )
    sql_log.clear()
    heroes_session.commit()

    writes = [s for s in sql_log.dml() if s.verb == "INSERT"]
    tables = [s.table for s in writes]
    assert tables.count("hero") == 2
    assert tables.count("team") == 2
    # Teams were never added: they reach the session through Hero.teams.
    assert [s.parameters for s in writes if s.table == "team"] == [
        ("Z-Force", "Sister Margaret's Bar"),
        ("Preventers", "Sharp Tower"),
    ]
    links = [s for s in writes if s.table == "heroteamlink"]
    assert len(links) == 1, "link rows must go in a single executemany"
    assert links[0].executemany
    assert writes[-1] is links[0], "link rows need both ids, so they go last"
    team_ids = {t.name: t.id for t in (preventers, z_force)}
    assert sorted(links[0].parameters) == sorted(
        [
            (team_ids["Z-Force"], 1),
            (team_ids["Preventers"], 1),
            (team_ids["Preventers"], 2),
        ]
    )


def test_reading_teams_lazy_loads_through_the_link_table(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    hero = Hero(
        name="Deadpond", secret_name="Dive Wilson", teams=[Team(name="Z", headquarters="Q")]
    )
    heroes_session.add(hero)
    heroes_session.commit()
    heroes_session.refresh(hero)
    sql_log.clear()

    assert [t.name for t in hero.teams] == ["Z"]
    (load,) = sql_log.dml()
    assert load.sql == (
        "SELECT team.id, team.name, team.headquarters FROM team, heroteamlink"
        " WHERE ? = heroteamlink.hero_id AND team.id = heroteamlink.team_id"
    )
    assert load.parameters == (hero.id,)
    sql_log.clear()
    assert hero.teams[0].name == "Z"
    assert sql_log.dml() == [], "a loaded collection is not loaded again"


def test_refresh_selects_columns_only(heroes_session: Session, sql_log: RecordedSQL) -> None:
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    heroes_session.add(hero)
    heroes_session.commit()
    sql_log.clear()
    heroes_session.refresh(hero)
    (load,) = sql_log.dml()
    assert load.sql == (
        "SELECT hero.id, hero.name, hero.secret_name, hero.age FROM hero WHERE hero.id = ?"
    )


def test_both_ends_stay_in_step(heroes_session: Session) -> None:
    team = Team(name="Preventers", headquarters="Sharp Tower")
    hero = Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[team])
    assert team.heroes == [hero], "back_populates updates the other end before any flush"
    team.heroes.append(Hero(name="Tarantula", secret_name="Natalia Roman-on"))
    heroes_session.add(team)
    heroes_session.commit()
    assert memberships(heroes_session) == {("Rusty-Man", "Preventers"), ("Tarantula", "Preventers")}

    hero.teams.remove(team)
    heroes_session.commit()
    assert memberships(heroes_session) == {("Tarantula", "Preventers")}
    assert heroes_session.scalar(select(Hero).where(Hero.name == "Rusty-Man")) is hero


@pytest.mark.parametrize("which", ["hero", "team"])
def test_deleting_either_side_removes_its_link_rows(heroes_session: Session, which: str) -> None:
    team = Team(name="Preventers", headquarters="Sharp Tower")
    hero = Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[team])
    other = Hero(name="Tarantula", secret_name="Natalia Roman-on", teams=[team])
    heroes_session.add_all([hero, other])
    heroes_session.commit()

    heroes_session.delete(hero if which == "hero" else team)
    heroes_session.commit()
    expected = {("Tarantula", "Preventers")} if which == "hero" else set()
    assert memberships(heroes_session) == expected
    assert (
        heroes_session.scalar(select(HeroTeamLink).where(HeroTeamLink.hero_id == hero.id)) is None
    )
