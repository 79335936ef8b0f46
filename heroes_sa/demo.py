"""The tutorial's programs, run on heroes_sa's models.

Each flow does what the corresponding SQLModel tutorial program does, step for
step (the same adds, commits and refreshes, so the same SQL), and prints the
same lines, objects shown by their ``repr``.  :func:`prepare` makes sure a
demo never writes into a database that is at another revision or already
holds heroes.

The flows take the models module as a parameter so the parity tests can run
the very same steps on SQLModel's classes.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, TextIO

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.orm import Session

from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.errors import DatabaseNotEmptyError, WrongRevisionError
from heroes_sa.migration import current_revision, upgrade

if TYPE_CHECKING:
    # Only where the async flows run: the extension needs the optional greenlet.
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


# The objects each program creates, built once for the sync and async flows,
# which differ only in how they talk to the session.


def _first_heroes(models: ModuleType) -> tuple[Any, Any, Any, Any]:
    """Preventers, and Deadpond, Rusty-Man and Spider-Boy (one-to-many)."""
    Hero, Team = models.Hero, models.Team  # noqa: N806 - class aliases
    team_preventers = Team(name="Preventers", headquarters="Sharp Tower")
    team_z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    # One commit saves the teams too: they are reached through Hero.team.
    hero_deadpond = Hero(name="Deadpond", secret_name="Dive Wilson", team=team_z_force)
    hero_rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team=team_preventers)
    hero_spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    return team_preventers, hero_deadpond, hero_rusty_man, hero_spider_boy


def _wakaland(models: ModuleType) -> Any:
    """Team Wakaland, created with its two heroes through ``heroes=``."""
    Hero, Team = models.Hero, models.Team  # noqa: N806 - class aliases
    hero_black_lion = Hero(name="Black Lion", secret_name="Trevor Challa", age=35)
    hero_sure_e = Hero(name="Princess Sure-E", secret_name="Sure-E")
    return Team(
        name="Wakaland",
        headquarters="Wakaland Capital City",
        heroes=[hero_black_lion, hero_sure_e],
    )


def _new_preventers(models: ModuleType) -> tuple[Any, Any, Any]:
    """Tarantula, Dr. Weird and Captain North America, in no team yet."""
    Hero = models.Hero  # noqa: N806 - class alias
    hero_tarantula = Hero(name="Tarantula", secret_name="Natalia Roman-on", age=32)
    hero_dr_weird = Hero(name="Dr. Weird", secret_name="Steve Weird", age=36)
    hero_cap = Hero(name="Captain North America", secret_name="Esteban Rogelios", age=93)
    return hero_tarantula, hero_dr_weird, hero_cap


def _heroes_in_teams(models: ModuleType) -> tuple[Any, Any, Any]:
    """Deadpond in two teams, Rusty-Man and Spider-Boy in Preventers (many-to-many)."""
    Hero, Team = models.Hero, models.Team  # noqa: N806 - class aliases
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
    return hero_deadpond, hero_rusty_man, hero_spider_boy


def _links(models: ModuleType) -> tuple[Any, Any, list[Any]]:
    """Preventers and Z-Force, and four memberships as link objects, two in training."""
    Hero, Team, HeroTeamLink = models.Hero, models.Team, models.HeroTeamLink  # noqa: N806
    team_preventers = Team(name="Preventers", headquarters="Sharp Tower")
    team_z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    hero_deadpond = Hero(name="Deadpond", secret_name="Dive Wilson")
    hero_rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48)
    hero_spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    links = [
        HeroTeamLink(team=team_z_force, hero=hero_deadpond),
        HeroTeamLink(team=team_preventers, hero=hero_deadpond, is_training=True),
        HeroTeamLink(team=team_preventers, hero=hero_spider_boy, is_training=True),
        HeroTeamLink(team=team_preventers, hero=hero_rusty_man),
    ]
    return team_preventers, team_z_force, links


def _spider_boy_and_z_force(models: ModuleType) -> tuple[Any, Any]:
    """The queries the tutorial's second function starts with."""
    Hero, Team = models.Hero, models.Team  # noqa: N806 - class aliases
    return (
        select(Hero).where(Hero.name == "Spider-Boy"),
        select(Team).where(Team.name == "Z-Force"),
    )


def one_to_many_flow(session: Session, out: TextIO, models: ModuleType = one_to_many) -> None:
    """Create heroes and teams through ``Hero.team`` and ``Team.heroes``."""
    team_preventers, hero_deadpond, hero_rusty_man, hero_spider_boy = _first_heroes(models)
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

    hero_spider_boy.team = team_preventers
    session.add(hero_spider_boy)
    session.commit()
    session.refresh(hero_spider_boy)
    print("Updated hero:", hero_spider_boy, file=out)

    team_wakaland = _wakaland(models)
    session.add(team_wakaland)
    session.commit()
    session.refresh(team_wakaland)
    print("Team Wakaland:", team_wakaland, file=out)

    hero_tarantula, hero_dr_weird, hero_cap = _new_preventers(models)
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


def many_to_many_flow(session: Session, out: TextIO, models: ModuleType = many_to_many) -> None:
    """Create heroes in several teams through ``Hero.teams``, then read them back."""
    hero_deadpond, hero_rusty_man, hero_spider_boy = _heroes_in_teams(models)
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


def link_model_flow(session: Session, out: TextIO, models: ModuleType = link_model) -> None:
    """Create memberships as link objects, then add one and change another's flag.

    The tutorial's two functions each open a session; here the second part
    starts from :meth:`Session.close`, which ends the first part's
    transaction and empties the identity map as leaving its ``with`` does.
    One step differs, deliberately: the new link joins the session with
    ``session.add`` instead of being appended a second time to
    ``team_z_force.hero_links`` (see the comment there), so this flow sends
    the tutorial's SQL but for the one SELECT that append loads.
    """
    team_preventers, team_z_force, links = _links(models)
    for link in links:
        session.add(link)
    session.commit()

    # Each .hero_links and .hero is a lazy load, as in the tutorial.
    for link in team_z_force.hero_links:
        print("Z-Force hero:", link.hero, "is training:", link.is_training, file=out)
    for link in team_preventers.hero_links:
        print("Preventers hero:", link.hero, "is training:", link.is_training, file=out)
    session.close()

    find_spider_boy, find_z_force = _spider_boy_and_z_force(models)
    hero_spider_boy = session.scalars(find_spider_boy).one()
    team_z_force = session.scalars(find_z_force).one()
    spider_boy_z_force_link = models.HeroTeamLink(
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


async def one_to_many_flow_async(session: AsyncSession, out: TextIO) -> None:
    """:func:`one_to_many_flow` under ``AsyncSession``: the same steps and the same SQL.

    Where the sync flow lets an attribute access load (``team_preventers.heroes``
    after a commit expired it), this one awaits ``awaitable_attrs``, which
    sends the very same SELECTs.
    """
    team_preventers, hero_deadpond, hero_rusty_man, hero_spider_boy = _first_heroes(one_to_many)
    session.add(hero_deadpond)
    session.add(hero_rusty_man)
    session.add(hero_spider_boy)
    await session.commit()

    await session.refresh(hero_deadpond)
    await session.refresh(hero_rusty_man)
    await session.refresh(hero_spider_boy)
    print("Created hero:", hero_deadpond, file=out)
    print("Created hero:", hero_rusty_man, file=out)
    print("Created hero:", hero_spider_boy, file=out)

    # Assigning a many-to-one needs no load: the old value is not fetched.
    hero_spider_boy.team = team_preventers
    session.add(hero_spider_boy)
    await session.commit()
    await session.refresh(hero_spider_boy)
    print("Updated hero:", hero_spider_boy, file=out)

    team_wakaland = _wakaland(one_to_many)
    session.add(team_wakaland)
    await session.commit()
    await session.refresh(team_wakaland)
    print("Team Wakaland:", team_wakaland, file=out)

    hero_tarantula, hero_dr_weird, hero_cap = _new_preventers(one_to_many)
    preventers_heroes = await team_preventers.awaitable_attrs.heroes
    preventers_heroes.append(hero_tarantula)
    preventers_heroes.append(hero_dr_weird)
    preventers_heroes.append(hero_cap)
    session.add(team_preventers)
    await session.commit()
    await session.refresh(hero_tarantula)
    await session.refresh(hero_dr_weird)
    await session.refresh(hero_cap)
    print("Preventers new hero:", hero_tarantula, file=out)
    print("Preventers new hero:", hero_dr_weird, file=out)
    print("Preventers new hero:", hero_cap, file=out)


async def many_to_many_flow_async(session: AsyncSession, out: TextIO) -> None:
    """:func:`many_to_many_flow` under ``AsyncSession``: the same steps and the same SQL.

    Each ``hero.teams`` of the sync flow is ``await hero.awaitable_attrs.teams``
    here: the same lazy-load SELECT, awaited instead of run as blocking IO.
    """
    hero_deadpond, hero_rusty_man, hero_spider_boy = _heroes_in_teams(many_to_many)
    session.add(hero_deadpond)
    session.add(hero_rusty_man)
    session.add(hero_spider_boy)
    await session.commit()

    await session.refresh(hero_deadpond)
    await session.refresh(hero_rusty_man)
    await session.refresh(hero_spider_boy)
    print("Deadpond:", hero_deadpond, file=out)
    print("Deadpond teams:", await hero_deadpond.awaitable_attrs.teams, file=out)
    print("Rusty-Man:", hero_rusty_man, file=out)
    print("Rusty-Man Teams:", await hero_rusty_man.awaitable_attrs.teams, file=out)
    print("Spider-Boy:", hero_spider_boy, file=out)
    print("Spider-Boy Teams:", await hero_spider_boy.awaitable_attrs.teams, file=out)


async def link_model_flow_async(session: AsyncSession, out: TextIO) -> None:
    """:func:`link_model_flow` under ``AsyncSession``: the same steps and the same SQL.

    Every lazy load of the sync flow (``.hero_links``, ``.team_links``,
    ``.hero``, ``.team``) is awaited through ``awaitable_attrs`` here.
    """
    team_preventers, team_z_force, links = _links(link_model)
    for link in links:
        session.add(link)
    await session.commit()

    for link in await team_z_force.awaitable_attrs.hero_links:
        hero = await link.awaitable_attrs.hero
        print("Z-Force hero:", hero, "is training:", link.is_training, file=out)
    for link in await team_preventers.awaitable_attrs.hero_links:
        hero = await link.awaitable_attrs.hero
        print("Preventers hero:", hero, "is training:", link.is_training, file=out)
    await session.close()

    find_spider_boy, find_z_force = _spider_boy_and_z_force(link_model)
    hero_spider_boy = (await session.scalars(find_spider_boy)).one()
    team_z_force = (await session.scalars(find_z_force)).one()
    spider_boy_z_force_link = link_model.HeroTeamLink(
        team=team_z_force, hero=hero_spider_boy, is_training=True
    )
    session.add(spider_boy_z_force_link)  # see link_model_flow
    await session.commit()

    print("Updated Spider-Boy's Teams:", await hero_spider_boy.awaitable_attrs.team_links, file=out)
    print("Z-Force heroes:", await team_z_force.awaitable_attrs.hero_links, file=out)

    for link in await hero_spider_boy.awaitable_attrs.team_links:
        if (await link.awaitable_attrs.team).name == "Preventers":
            link.is_training = False
    session.add(hero_spider_boy)
    await session.commit()

    for link in await hero_spider_boy.awaitable_attrs.team_links:
        team = await link.awaitable_attrs.team
        print("Spider-Boy team:", team, "is training:", link.is_training, file=out)


Flow = Callable[[Session, TextIO], None]

#: Demo name -> (revision its models describe, the flow).
DEMOS: Final[dict[str, tuple[str, Flow]]] = {
    "one-to-many": (one_to_many.REVISION, one_to_many_flow),
    "many-to-many": (many_to_many.REVISION, many_to_many_flow),
    "link-model": (link_model.REVISION, link_model_flow),
}

AsyncFlow = Callable[["AsyncSession", TextIO], Awaitable[None]]

#: Demo name -> (revision, the flow under AsyncSession); the same names as :data:`DEMOS`.
ASYNC_DEMOS: Final[dict[str, tuple[str, AsyncFlow]]] = {
    "one-to-many": (one_to_many.REVISION, one_to_many_flow_async),
    "many-to-many": (many_to_many.REVISION, many_to_many_flow_async),
    "link-model": (link_model.REVISION, link_model_flow_async),
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
        # A Session, not bind.connect(): it works on an Engine and a Connection
        # alike, and its close ends the transaction the inspection began.
        with Session(bind) as session:
            tables = inspect(session.connection()).get_table_names()
        if tables:
            raise WrongRevisionError(
                f"the database has tables ({', '.join(sorted(tables))}) but no Alembic"
                " revision; adopt it first (README: 'Adopting a SQLModel database')"
            )
        upgrade(bind, revision)
        return
    if found != revision:
        raise WrongRevisionError(f"the database is at revision {found}, this demo needs {revision}")
    with Session(bind) as session:
        heroes = session.scalar(select(func.count()).select_from(one_to_many.Hero.__table__))
    if heroes:
        raise DatabaseNotEmptyError(
            f"the database already holds {heroes} heroes; the demo only writes into an empty one"
        )


def run(name: str, engine: Engine, out: TextIO | None = None) -> None:
    """Prepare the database behind ``engine`` and run demo ``name`` on it.

    Prints to ``out``, else to whatever ``sys.stdout`` is at the time of the call.
    """
    revision, flow = DEMOS[name]
    prepare(engine, revision)
    with Session(engine) as session:
        flow(session, sys.stdout if out is None else out)


async def run_async(name: str, engine: AsyncEngine, out: TextIO | None = None) -> None:
    """:func:`run` under asyncio: the same checks, then the flow through ``AsyncSession``."""
    from sqlalchemy.ext.asyncio import AsyncSession

    revision, flow = ASYNC_DEMOS[name]
    async with engine.connect() as connection:
        await connection.run_sync(prepare, revision)
    async with AsyncSession(engine) as session:
        await flow(session, sys.stdout if out is None else out)
