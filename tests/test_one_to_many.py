"""The one-to-many tutorial page, asserted on data and on the SQL sent."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from heroes_sa import one_to_many
from heroes_sa.demo import one_to_many_flow
from heroes_sa.one_to_many import Hero, Team
from heroes_sa.testing import RecordedSQL

# These tests assert the ids the tutorial prints, which the servers hand out
# from counters that rolled-back tests moved on: restart them per test.
pytestmark = [
    pytest.mark.heroes_revision(one_to_many.REVISION),
    pytest.mark.usefixtures("heroes_restart_identities"),
]


def team_of(session: Session) -> dict[str, str | None]:
    """Hero name -> team name, straight from the rows."""
    rows = session.execute(select(Hero.name, Team.name).outerjoin(Team, Hero.team_id == Team.id))
    return {hero: team for hero, team in rows}


def test_flow_prints_the_tutorial_lines(heroes_session: Session) -> None:
    out = io.StringIO()
    one_to_many_flow(heroes_session, out)
    hero = "Hero(id={}, name={!r}, secret_name={!r}, age={!r}, team_id={!r})".format
    assert out.getvalue().splitlines() == [
        "Created hero: " + hero(1, "Deadpond", "Dive Wilson", None, 1),
        "Created hero: " + hero(2, "Rusty-Man", "Tommy Sharp", 48, 2),
        "Created hero: " + hero(3, "Spider-Boy", "Pedro Parqueador", None, None),
        "Updated hero: " + hero(3, "Spider-Boy", "Pedro Parqueador", None, 2),
        "Team Wakaland: Team(id=3, name='Wakaland', headquarters='Wakaland Capital City')",
        "Preventers new hero: " + hero(6, "Tarantula", "Natalia Roman-on", 32, 2),
        "Preventers new hero: " + hero(7, "Dr. Weird", "Steve Weird", 36, 2),
        "Preventers new hero: " + hero(8, "Captain North America", "Esteban Rogelios", 93, 2),
    ]
    assert team_of(heroes_session) == {
        "Deadpond": "Z-Force",
        "Rusty-Man": "Preventers",
        "Spider-Boy": "Preventers",
        "Black Lion": "Wakaland",
        "Princess Sure-E": "Wakaland",
        "Tarantula": "Preventers",
        "Dr. Weird": "Preventers",
        "Captain North America": "Preventers",
    }


def test_one_commit_saves_unsaved_teams_through_hero_team(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    heroes_session.add(Hero(name="Deadpond", secret_name="Dive Wilson", team=z_force))
    heroes_session.commit()

    inserts = [s for s in sql_log.dml() if s.verb == "INSERT"]
    assert [s.table for s in inserts] == ["team", "hero"], "the team first: hero needs its id"
    assert inserts[0].parameters == ("Z-Force", "Sister Margaret's Bar")
    assert inserts[1].parameters == ("Deadpond", "Dive Wilson", None, z_force.id)
    assert z_force.id is not None


def test_assigning_hero_team_updates_team_id(heroes_session: Session, sql_log: RecordedSQL) -> None:
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    heroes_session.add_all([preventers, spider_boy])
    heroes_session.commit()
    sql_log.clear()

    spider_boy.team = preventers
    heroes_session.commit()
    (update,) = [s for s in sql_log.dml() if s.verb == "UPDATE"]
    assert update.sql == "UPDATE hero SET team_id=? WHERE hero.id = ?"
    assert update.parameters == (preventers.id, spider_boy.id)
    assert team_of(heroes_session) == {"Spider-Boy": "Preventers"}


def test_team_heroes_cascades_on_create_and_append(heroes_session: Session) -> None:
    wakaland = Team(
        name="Wakaland",
        headquarters="Wakaland Capital City",
        heroes=[Hero(name="Black Lion", secret_name="Trevor Challa", age=35)],
    )
    heroes_session.add(wakaland)
    heroes_session.commit()
    wakaland.heroes.append(Hero(name="Princess Sure-E", secret_name="Sure-E"))
    heroes_session.commit()
    assert team_of(heroes_session) == {"Black Lion": "Wakaland", "Princess Sure-E": "Wakaland"}
    assert all(h.team is wakaland for h in wakaland.heroes)


def test_lazy_load_of_hero_team_is_one_select(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    hero = Hero(name="Deadpond", secret_name="Dive Wilson", team=Team(name="Z", headquarters="Q"))
    heroes_session.add(hero)
    heroes_session.commit()
    heroes_session.expire_all()
    assert hero.name == "Deadpond"
    sql_log.clear()
    assert hero.team is not None
    assert hero.team.name == "Z"
    (load,) = sql_log.dml()
    assert load.sql.startswith("SELECT team.id, team.name, team.headquarters FROM team WHERE")


def test_deleting_a_team_leaves_its_heroes_without_one(heroes_session: Session) -> None:
    team = Team(name="Preventers", headquarters="Sharp Tower")
    heroes_session.add(Hero(name="Rusty-Man", secret_name="Tommy Sharp", team=team))
    heroes_session.commit()
    heroes_session.delete(team)
    heroes_session.commit()
    assert team_of(heroes_session) == {"Rusty-Man": None}
