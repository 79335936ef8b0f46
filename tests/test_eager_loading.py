"""Reading heroes with their teams: the documented eager path, and the index behind it."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from heroes_sa.bulk import bulk_create
from heroes_sa.many_to_many import Hero
from heroes_sa.testing import RecordedSQL

HEROES = 1201
TEAMS = 7


def load_heroes(session: Session, heroes: int = HEROES) -> dict[str, list[str]]:
    """``heroes`` heroes in one or two of :data:`TEAMS` teams; returns name -> team names."""
    teams = [{"name": f"Team {t}", "headquarters": "HQ"} for t in range(TEAMS)]
    memberships = [(h, h % TEAMS) for h in range(heroes)]
    memberships += [(h, (h + 1) % TEAMS) for h in range(0, heroes, 2)]
    bulk_create(
        session,
        heroes=[{"name": f"Hero {h}", "secret_name": f"S{h}"} for h in range(heroes)],
        teams=teams,  # type: ignore[arg-type]
        memberships=memberships,
    )
    session.commit()
    expected: dict[str, list[str]] = {f"Hero {h}": [] for h in range(heroes)}
    for hero, team in memberships:
        expected[f"Hero {hero}"].append(f"Team {team}")
    return {name: sorted(names) for name, names in expected.items()}


def test_selectinload_sends_one_select_per_500_heroes_never_one_per_hero(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    expected = load_heroes(heroes_session)
    heroes_session.expunge_all()
    sql_log.clear()

    heroes = heroes_session.scalars(select(Hero).options(selectinload(Hero.teams))).all()
    got = {hero.name: sorted(team.name for team in hero.teams) for hero in heroes}

    selects = [s for s in sql_log.dml() if s.verb == "SELECT"]
    assert len(selects) == 1 + math.ceil(HEROES / 500) == 4
    assert got == expected


def test_lazy_loading_sends_one_select_per_hero(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    """The contrast: what the eager path saves."""
    expected = load_heroes(heroes_session, heroes=6)
    heroes_session.expunge_all()
    sql_log.clear()

    heroes = heroes_session.scalars(select(Hero)).all()
    got = {hero.name: sorted(team.name for team in hero.teams) for hero in heroes}

    assert len([s for s in sql_log.dml() if s.verb == "SELECT"]) == 1 + 6
    assert got == expected


def query_plan(session: Session, sql: str, params: object) -> str:
    """SQLite's plan for a statement the ORM sent, as one string."""
    assert isinstance(params, tuple)
    # The statement is the ORM's own, captured from the log; only the prefix is added.
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
    return "; ".join(row[-1] for row in rows)


@pytest.mark.backends("sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")
def test_loading_a_heroes_teams_searches_the_link_index(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    """Revision 0003's index: without it, each load scans every link row."""
    load_heroes(heroes_session, heroes=20)
    heroes_session.expunge_all()
    hero = heroes_session.scalars(select(Hero).limit(1)).one()
    sql_log.clear()
    assert hero.teams
    lazy = [s for s in sql_log.dml() if s.verb == "SELECT"][-1]
    heroes_session.expunge_all()
    sql_log.clear()
    heroes_session.scalars(select(Hero).options(selectinload(Hero.teams))).all()
    eager = [s for s in sql_log.dml() if s.verb == "SELECT"][-1]

    for statement in (lazy, eager):
        plan = query_plan(heroes_session, statement.sql, statement.parameters)
        assert "INDEX ix_heroteamlink_hero_id" in plan, plan
        assert "SCAN heroteamlink" not in plan, plan


def test_the_index_is_on_the_link_tables_hero_id(heroes_session: Session) -> None:
    indexes = inspect(heroes_session.connection()).get_indexes("heroteamlink")
    assert {i["name"]: i["column_names"] for i in indexes} == {
        "ix_heroteamlink_hero_id": ["hero_id"]
    }
