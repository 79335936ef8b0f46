"""The models under AsyncSession: the seed flows' SQL, relationships, and MissingGreenlet.

Each test runs on SQLite (aiosqlite) and, when the run is given a server
(``--heroes-db-url``), on that server through asyncpg or aiomysql, each time
on a new database.
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

import heroes_sa
from heroes_sa import one_to_many
from heroes_sa.cli import main
from heroes_sa.demo import DEMOS, run, run_async
from heroes_sa.many_to_many import Hero, HeroTeamLink, Team
from heroes_sa.testing import RecordedSQL, RecordedStatement, record_sql, scratch_database
from tests.async_helpers import (
    driver_coroutine_left_unawaited,
    fresh_async_engine,
    is_missing_greenlet,
)
from tests.test_link_model import LINK_MODEL_LINES_ON_MYSQL


@pytest_asyncio.fixture
async def engine(async_backend: URL | None) -> AsyncIterator[AsyncEngine]:
    """A new database at head on the backend under test."""
    async with fresh_async_engine(async_backend) as engine:
        yield engine


async def memberships(session: AsyncSession) -> set[tuple[str, str]]:
    """(hero name, team name) for every link row, straight from the rows."""
    rows = await session.execute(
        select(Hero.name, Team.name)
        .join(HeroTeamLink, HeroTeamLink.hero_id == Hero.id)
        .join(Team, Team.id == HeroTeamLink.team_id)
    )
    return {(hero, team) for hero, team in rows}


# --- the seed flows ---------------------------------------------------------


def sync_run(backend: URL | None, name: str) -> tuple[list[RecordedStatement], str]:
    """What ``heroes-sa demo NAME`` sends and prints on a new database, at the demo's revision.

    Through the backend's sync driver (pysqlite, psycopg, pymysql), recorded
    in SQLite's form so that it compares with what an async driver received.
    """
    out = io.StringIO()
    with scratch_database(backend) as engine:
        heroes_sa.upgrade(engine, DEMOS[name].revision)
        with record_sql(engine, qmark=True) as sent:
            run(name, engine, out)
        return comparable(sent, engine.url), out.getvalue()


async def async_run(backend: URL | None, name: str) -> tuple[list[RecordedStatement], str]:
    """The same with ``--async``: through the async driver (aiosqlite, asyncpg, aiomysql)."""
    out = io.StringIO()
    async with fresh_async_engine(backend, DEMOS[name].revision) as engine:
        with record_sql(engine, qmark=True) as sent:
            await run_async(name, engine, out)
        return comparable(sent, engine.url), out.getvalue()


def comparable(sent: RecordedSQL, url: URL) -> list[RecordedStatement]:
    """``sent`` with what two correct runs may differ in made the same.

    The unit of work gathers link rows from a set, so their order within the
    one executemany varies from run to run, even between two sync runs: the
    rows of each link-table insert are sorted.  A statement without
    placeholders keeps its driver's empty parameter set in ``qmark`` form
    (``{}`` from psycopg, ``()`` from asyncpg): all become ``()``.  On
    MySQL/MariaDB Alembic names the database in a ``DESCRIBE``, and each run
    has a scratch database of its own: its name becomes ``scratch``.
    """
    scratch = url.database if url.get_backend_name() in {"mysql", "mariadb"} else None
    statements = []
    for statement in sent.statements:
        if scratch:
            statement = replace(statement, sql=statement.sql.replace(scratch, "scratch"))
        if statement.executemany and statement.sql.startswith("INSERT INTO heroteamlink"):
            statement = replace(statement, parameters=sorted(statement.parameters))
        elif not statement.parameters:
            statement = replace(statement, parameters=())
        statements.append(statement)
    return statements


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(DEMOS))
async def test_seed_flow_under_async_session_sends_the_same_sql(
    async_backend: URL | None, name: str
) -> None:
    """``--async`` runs the sync flow through ``AsyncSession.run_sync``, on the async driver.

    So the two drivers receive the same statements with the same parameters:
    the demo's checks, each commit, refresh and lazy load.
    """
    sync_sent, sync_out = sync_run(async_backend, name)
    async_sent, async_out = await async_run(async_backend, name)
    assert async_sent == sync_sent
    assert async_out == sync_out
    # Not vacuous: the flows write, commit and load relationships.
    assert any(s.sql.startswith("INSERT INTO heroteamlink") for s in sync_sent) == (
        name != "one-to-many"
    )
    assert len([s for s in sync_sent if s.verb == "SELECT"]) >= 4


def test_demo_async_prints_what_the_sync_demo_prints(capsys: pytest.CaptureFixture[str]) -> None:
    for name in sorted(DEMOS):
        assert main(["demo", name]) == 0
        sync_out = capsys.readouterr().out
        assert main(["demo", name, "--async"]) == 0
        captured = capsys.readouterr()
        assert captured.out == sync_out
        assert captured.err == ""


def test_demo_async_refuses_a_database_that_already_holds_heroes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    assert main(["demo", "many-to-many", "--db", url, "--async"]) == 0
    capsys.readouterr()
    assert main(["demo", "many-to-many", "--db", url, "--async"]) == 1
    assert capsys.readouterr().err.strip() == (
        "heroes-sa: error: the database already holds 3 heroes; the demo only writes into"
        " an empty one"
    )


def test_demo_async_names_the_extra_when_the_driver_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "aiosqlite", None)
    assert main(["demo", "many-to-many", "--async"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'heroes_sa[async]'" in err
    assert len(err.strip().splitlines()) == 1


# --- creating through relationship attributes --------------------------------


@pytest.mark.asyncio
async def test_creating_through_relationship_attributes_works_as_in_sync_code(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as session:
        preventers = Team(name="Preventers", headquarters="Sharp Tower")
        z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add(Hero(name="Deadpond", secret_name="Dive Wilson", teams=[z_force, preventers]))
        # Appending to a collection of a new object needs no load.
        preventers.heroes.append(Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48))
        await session.commit()
        assert await memberships(session) == {
            ("Deadpond", "Z-Force"),
            ("Deadpond", "Preventers"),
            ("Rusty-Man", "Preventers"),
        }

        # A persistent team's collection is loaded (awaited) once, then used as in sync code.
        heroes = await z_force.awaitable_attrs.heroes
        heroes.append(Hero(name="Spider-Boy", secret_name="Pedro Parqueador"))
        heroes.remove(next(h for h in heroes if h.name == "Deadpond"))
        await session.commit()
        assert await memberships(session) == {
            ("Deadpond", "Preventers"),
            ("Rusty-Man", "Preventers"),
            ("Spider-Boy", "Z-Force"),
        }


@pytest.mark.asyncio
async def test_one_to_many_relationship_attributes_under_async_session(
    async_backend: URL | None,
) -> None:
    async with (
        fresh_async_engine(async_backend, one_to_many.REVISION) as engine,
        AsyncSession(engine) as session,
    ):
        wakaland = one_to_many.Team(
            name="Wakaland",
            headquarters="Wakaland Capital City",
            heroes=[one_to_many.Hero(name="Black Lion", secret_name="Trevor Challa", age=35)],
        )
        spider_boy = one_to_many.Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
        session.add_all([wakaland, spider_boy])
        await session.commit()
        spider_boy.team = wakaland  # a many-to-one: assigned without loading anything
        await session.commit()
        rows = await session.execute(
            select(one_to_many.Hero.name, one_to_many.Team.name).join(one_to_many.Hero.team)
        )
        assert set(rows) == {("Black Lion", "Wakaland"), ("Spider-Boy", "Wakaland")}


# --- loading relationships: the wrong way and the right ways ----------------


async def seed(engine: AsyncEngine) -> None:
    """Three heroes: Deadpond in two teams, Rusty-Man and Spider-Boy in one."""
    async with AsyncSession(engine) as session:
        preventers = Team(name="Preventers", headquarters="Sharp Tower")
        z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add_all(
            [
                Hero(name="Deadpond", secret_name="Dive Wilson", teams=[z_force, preventers]),
                Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[preventers]),
                Hero(name="Spider-Boy", secret_name="Pedro Parqueador", teams=[preventers]),
            ]
        )
        await session.commit()


@pytest.mark.asyncio
async def test_touching_an_unloaded_relationship_raises_missing_greenlet(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    async with AsyncSession(engine) as session:
        hero = await session.scalar(select(Hero).where(Hero.name == "Deadpond"))
        assert hero is not None
        with driver_coroutine_left_unawaited():
            with pytest.raises(SQLAlchemyError) as raised:
                _ = hero.teams  # a lazy load: blocking IO, which asyncio cannot do
            assert is_missing_greenlet(raised.value), repr(raised.value)
            assert raised.value.code == "xd2s", "SQLAlchemy's documented error page"
            del raised

        # Nothing was loaded, and the session goes on working.
        assert "teams" not in hero.__dict__
        assert await session.scalar(select(func.count()).select_from(Hero)) == 3
        teams = await hero.awaitable_attrs.teams
        assert sorted(t.name for t in teams) == ["Preventers", "Z-Force"]
        hero.age = 30
        await session.commit()
        assert await session.scalar(select(Hero.age).where(Hero.name == "Deadpond")) == 30


@pytest.mark.asyncio
async def test_awaitable_attrs_loads_a_relationship_once(engine: AsyncEngine) -> None:
    await seed(engine)
    async with AsyncSession(engine) as session:
        hero = await session.scalar(select(Hero).where(Hero.name == "Rusty-Man"))
        assert hero is not None
        with record_sql(engine) as sent:
            teams = await hero.awaitable_attrs.teams
        assert [t.name for t in teams] == ["Preventers"]
        (load,) = sent.statements
        assert "FROM team, heroteamlink" in load.sql
        with record_sql(engine) as sent:
            assert await hero.awaitable_attrs.teams is teams
            assert hero.teams is teams, "once loaded, plain access needs no await"
        assert sent.statements == []


@pytest.mark.asyncio
async def test_selectinload_loads_every_heroes_teams_in_one_more_query(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    async with AsyncSession(engine) as session:
        with record_sql(engine) as sent:
            heroes = (
                await session.scalars(
                    select(Hero).options(selectinload(Hero.teams)).order_by(Hero.name)
                )
            ).all()
        assert len(sent.selects()) == 2, "the heroes, then every hero's teams at once"
        with record_sql(engine) as sent:
            teams = {h.name: sorted(t.name for t in h.teams) for h in heroes}
        assert sent.statements == [], "no lazy load left to fail"
        assert teams == {
            "Deadpond": ["Preventers", "Z-Force"],
            "Rusty-Man": ["Preventers"],
            "Spider-Boy": ["Preventers"],
        }


@pytest.mark.asyncio
async def test_without_expire_on_commit_objects_stay_readable_after_commit(
    engine: AsyncEngine,
) -> None:
    new_session = async_sessionmaker(engine, expire_on_commit=False)
    async with new_session() as session:
        team = Team(name="Preventers", headquarters="Sharp Tower")
        hero = Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[team])
        session.add(hero)
        await session.commit()
        with record_sql(engine) as sent:
            assert hero.name == "Rusty-Man"
            assert hero.teams == [team]
        assert sent.statements == []


@pytest.mark.backends(
    "mysql",
    reason="a PostgreSQL scratch namespace is a libpq option in its URL, which asyncpg cannot"
    " read, so the demo cannot be pointed at one (see docs/BACKENDS.md)",
)
@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_async_runs_on_the_server_too(
    server_url: URL, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """``mysql://`` (no driver) gets aiomysql; it used to be refused."""
    assert main(["demo", name]) == 0
    sync_out = capsys.readouterr().out
    with scratch_database(server_url) as engine:
        url = engine.url.set(drivername=engine.url.get_backend_name())
        assert main(["demo", name, "--db", url.render_as_string(False), "--async"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    if name == "link-model":
        # InnoDB lists a hero's links by team (docs/LINK_MODEL.md, "The demo").
        sync_out = "".join(f"{line}\n" for line in LINK_MODEL_LINES_ON_MYSQL)
    assert captured.out == sync_out
