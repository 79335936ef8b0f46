"""The tutorial's programs, run on heroes_sa's models: ``heroes-sa demo NAME``.

Each flow is one of the SQLModel tutorial's programs, step for step (the same
adds, commits and refreshes, so the same SQL), written on the models of the
revision it needs and printing the same lines, objects shown by their
``repr``.  The parity suite runs a reference copy of the programs on SQLModel's
classes (tests/parity/programs.py) and checks that these flows send the same
statements and print the same objects.

There is one flow per program, and it is sync code.  ``--async`` runs that
same function through :meth:`AsyncSession.run_sync
<sqlalchemy.ext.asyncio.AsyncSession.run_sync>`, SQLAlchemy's bridge for sync
ORM code under asyncio: every statement, lazy loads included, goes out through
the async driver, and the SQL is the sync demo's by construction, with no
second copy of the steps to keep in step.

:func:`prepare` makes sure a demo never writes into a database that is at
another revision or already holds heroes; its checks only read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TextIO

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.orm import Session

from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.engine import reading
from heroes_sa.errors import DatabaseNotEmptyError, WrongRevisionError
from heroes_sa.migration import current_revision, upgrade

if TYPE_CHECKING:
    # Only where the async demo runs: the extension needs the optional greenlet.
    from sqlalchemy.ext.asyncio import AsyncEngine


def one_to_many_flow(session: Session, out: TextIO) -> None:
    """Create heroes and teams through ``Hero.team`` and ``Team.heroes``."""
    Hero, Team = one_to_many.Hero, one_to_many.Team  # noqa: N806 - the tutorial's names
    team_preventers = Team(name="Preventers", headquarters="Sharp Tower")
    team_z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    hero_deadpond = Hero(name="Deadpond", secret_name="Dive Wilson", team=team_z_force)
    hero_rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team=team_preventers)
    hero_spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    # One commit saves the teams too: they are reached through Hero.team.
    session.add(hero_deadpond)
    session.add(hero_rusty_man)
    session.add(hero_spider_boy)
    session.commit()

    session.refresh(hero_deadpond)
    session.refresh(hero_rusty_man)
    session.refresh(hero_spider_boy)
    print("Created hero:", hero_deadpond, file=out)
    print("Created hero:", hero_rusty_man, file=out)
    print("Created hero:", hero_spider_boy, file=out)

    # Assigning a many-to-one needs no load: the old value is not fetched.
    hero_spider_boy.team = team_preventers
    session.add(hero_spider_boy)
    session.commit()
    session.refresh(hero_spider_boy)
    print("Updated hero:", hero_spider_boy, file=out)

    hero_black_lion = Hero(name="Black Lion", secret_name="Trevor Challa", age=35)
    hero_sure_e = Hero(name="Princess Sure-E", secret_name="Sure-E")
    team_wakaland = Team(
        name="Wakaland",
        headquarters="Wakaland Capital City",
        heroes=[hero_black_lion, hero_sure_e],
    )
    session.add(team_wakaland)
    session.commit()
    session.refresh(team_wakaland)
    print("Team Wakaland:", team_wakaland, file=out)

    hero_tarantula = Hero(name="Tarantula", secret_name="Natalia Roman-on", age=32)
    hero_dr_weird = Hero(name="Dr. Weird", secret_name="Steve Weird", age=36)
    hero_cap = Hero(name="Captain North America", secret_name="Esteban Rogelios", age=93)
    # The commits above expired team_preventers.heroes: the first append loads it.
    team_preventers.heroes.append(hero_tarantula)
    team_preventers.heroes.append(hero_dr_weird)
    team_preventers.heroes.append(hero_cap)
    session.add(team_preventers)
    session.commit()
    session.refresh(hero_tarantula)
    session.refresh(hero_dr_weird)
    session.refresh(hero_cap)
    print("Preventers new hero:", hero_tarantula, file=out)
    print("Preventers new hero:", hero_dr_weird, file=out)
    print("Preventers new hero:", hero_cap, file=out)


def many_to_many_flow(session: Session, out: TextIO) -> None:
    """Create heroes in several teams through ``Hero.teams``, then read them back."""
    Hero, Team = many_to_many.Hero, many_to_many.Team  # noqa: N806 - the tutorial's names
    team_preventers = Team(name="Preventers", headquarters="Sharp Tower")
    team_z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    hero_deadpond = Hero(
        name="Deadpond", secret_name="Dive Wilson", teams=[team_z_force, team_preventers]
    )
    hero_rusty_man = Hero(
        name="Rusty-Man", secret_name="Tommy Sharp", age=48, teams=[team_preventers]
    )
    hero_spider_boy = Hero(
        name="Spider-Boy", secret_name="Pedro Parqueador", teams=[team_preventers]
    )
    session.add(hero_deadpond)
    session.add(hero_rusty_man)
    session.add(hero_spider_boy)
    session.commit()

    session.refresh(hero_deadpond)
    session.refresh(hero_rusty_man)
    session.refresh(hero_spider_boy)
    # Each .teams below is a lazy load through heroteamlink, one SELECT per hero.
    print("Deadpond:", hero_deadpond, file=out)
    print("Deadpond teams:", hero_deadpond.teams, file=out)
    print("Rusty-Man:", hero_rusty_man, file=out)
    print("Rusty-Man Teams:", hero_rusty_man.teams, file=out)
    print("Spider-Boy:", hero_spider_boy, file=out)
    print("Spider-Boy Teams:", hero_spider_boy.teams, file=out)


def link_model_flow(session: Session, out: TextIO) -> None:
    """Create memberships as link objects, then add one and change another's flag.

    The tutorial's two functions each open a session; here the second part
    starts from :meth:`Session.close`, which ends the first part's
    transaction and empties the identity map as leaving its ``with`` does.
    One step differs, deliberately: the new link joins the session with
    ``session.add`` instead of being appended a second time to
    ``team_z_force.hero_links`` (see the comment there), so this flow sends
    the tutorial's SQL but for the one SELECT that append loads.
    """
    Hero, Team, HeroTeamLink = link_model.Hero, link_model.Team, link_model.HeroTeamLink  # noqa: N806 - the tutorial's names
    team_preventers = Team(name="Preventers", headquarters="Sharp Tower")
    team_z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    hero_deadpond = Hero(name="Deadpond", secret_name="Dive Wilson")
    hero_rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48)
    hero_spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    deadpond_team_z_link = HeroTeamLink(team=team_z_force, hero=hero_deadpond)
    deadpond_preventers_link = HeroTeamLink(
        team=team_preventers, hero=hero_deadpond, is_training=True
    )
    spider_boy_preventers_link = HeroTeamLink(
        team=team_preventers, hero=hero_spider_boy, is_training=True
    )
    rusty_man_preventers_link = HeroTeamLink(team=team_preventers, hero=hero_rusty_man)
    session.add(deadpond_team_z_link)
    session.add(deadpond_preventers_link)
    session.add(spider_boy_preventers_link)
    session.add(rusty_man_preventers_link)
    session.commit()

    # Each .hero_links and .hero is a lazy load, as in the tutorial.
    for link in team_z_force.hero_links:
        print("Z-Force hero:", link.hero, "is training:", link.is_training, file=out)
    for link in team_preventers.hero_links:
        print("Preventers hero:", link.hero, "is training:", link.is_training, file=out)
    session.close()

    hero_spider_boy = session.scalars(select(Hero).where(Hero.name == "Spider-Boy")).one()
    team_z_force = session.scalars(select(Team).where(Team.name == "Z-Force")).one()
    spider_boy_z_force_link = HeroTeamLink(
        team=team_z_force, hero=hero_spider_boy, is_training=True
    )
    # back_populates has already listed the link in team_z_force.hero_links
    # and hero_spider_boy.team_links; it only has to join the session.  The
    # tutorial appends it to team_z_force.hero_links once more instead: that
    # lists it twice, and the collection load the append needs autoflushes
    # while the link is outside the session (SQLModel's two SAWarnings).
    session.add(spider_boy_z_force_link)
    session.commit()

    print("Updated Spider-Boy's Teams:", hero_spider_boy.team_links, file=out)
    print("Z-Force heroes:", team_z_force.hero_links, file=out)

    for link in hero_spider_boy.team_links:
        if link.team.name == "Preventers":
            link.is_training = False
    session.add(hero_spider_boy)
    session.commit()

    for link in hero_spider_boy.team_links:
        print("Spider-Boy team:", link.team, "is training:", link.is_training, file=out)


@dataclass(frozen=True)
class Demo:
    """One demo: the revision its models describe, and its flow."""

    revision: str
    flow: Callable[[Session, TextIO], None]


#: The demos by the name ``heroes-sa demo`` takes, sync and async alike.
DEMOS: Final[dict[str, Demo]] = {
    "one-to-many": Demo(one_to_many.REVISION, one_to_many_flow),
    "many-to-many": Demo(many_to_many.REVISION, many_to_many_flow),
    "link-model": Demo(link_model.REVISION, link_model_flow),
}


def prepare(bind: Engine | Connection, revision: str) -> None:
    """Get the database behind ``bind`` ready for a demo at ``revision``.

    An empty database (no tables at all) is migrated to ``revision``.  One at
    ``revision`` with no heroes is used as it is.  Anything else raises, with
    nothing written: :class:`WrongRevisionError` for a database at another revision
    or not managed by Alembic, :class:`DatabaseNotEmptyError` for one with heroes.

    ``bind`` may be a Connection with no transaction begun (what
    ``AsyncConnection.run_sync`` hands over); it is left without one.
    """
    found = current_revision(bind)
    if found is None:
        # reading(): the checks neither take SQLite's write lock nor write, so
        # a database the demo refuses is left as it was, even a read-only file.
        with reading(bind) as connection:
            tables = inspect(connection).get_table_names()
        if tables:
            raise WrongRevisionError(
                f"the database has tables ({', '.join(sorted(tables))}) but no Alembic"
                " revision; adopt it first (README: 'Adopting a SQLModel database')"
            )
        upgrade(bind, revision)
        return
    if found != revision:
        raise WrongRevisionError(f"the database is at revision {found}, this demo needs {revision}")
    with reading(bind) as connection:
        heroes = connection.scalar(select(func.count()).select_from(one_to_many.Hero.__table__))
    if heroes:
        raise DatabaseNotEmptyError(
            f"the database already holds {heroes} heroes; the demo only writes into an empty one"
        )


def run(name: str, engine: Engine, out: TextIO | None = None) -> None:
    """Prepare the database behind ``engine`` and run demo ``name`` on it.

    Prints to ``out``, else to whatever ``sys.stdout`` is at the time of the call.
    """
    demo = DEMOS[name]
    prepare(engine, demo.revision)
    with Session(engine) as session:
        demo.flow(session, sys.stdout if out is None else out)


async def run_async(name: str, engine: AsyncEngine, out: TextIO | None = None) -> None:
    """:func:`run` under asyncio: the same checks, then the same flow through ``run_sync``."""
    from sqlalchemy.ext.asyncio import AsyncSession

    demo = DEMOS[name]
    async with engine.connect() as connection:
        await connection.run_sync(prepare, demo.revision)
    async with AsyncSession(engine) as session:
        await session.run_sync(demo.flow, sys.stdout if out is None else out)
