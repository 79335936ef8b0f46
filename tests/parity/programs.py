"""The tutorial's programs, a reference copy written over any models module.

:mod:`heroes_sa.demo` holds the implementation: one flow per program, on
heroes_sa's own models.  These are the same programs, step for step, taking
the models as a parameter, so the parity suite can run them where the
package's flows cannot: on SQLModel's classes, and on heroes_sa's models of
another revision (the many-to-many program on the head's models).
test_seed_flows.py runs the demo's flows against these on SQLModel and
requires the same rows, statements and printed objects, so the two copies
cannot drift apart unnoticed.

The chapter "Link Model with Extra Fields" is here as heroes_sa's demo runs
it, with its one deliberate step (the new link joins the session instead of
being appended again); test_differences.py runs the published step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Final, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.parity.harness import LINK_MODEL


def one_to_many(session: Session, out: TextIO, models: ModuleType) -> None:
    """The one-to-many page: heroes and teams through ``Hero.team`` and ``Team.heroes``."""
    Hero, Team = models.Hero, models.Team  # noqa: N806 - the tutorial's names
    team_preventers = Team(name="Preventers", headquarters="Sharp Tower")
    team_z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    hero_deadpond = Hero(name="Deadpond", secret_name="Dive Wilson", team=team_z_force)
    hero_rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, team=team_preventers)
    hero_spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
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


def many_to_many(session: Session, out: TextIO, models: ModuleType) -> None:
    """The many-to-many page: heroes in several teams through ``Hero.teams``, read back."""
    Hero, Team = models.Hero, models.Team  # noqa: N806 - the tutorial's names
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
    print("Deadpond:", hero_deadpond, file=out)
    print("Deadpond teams:", hero_deadpond.teams, file=out)
    print("Rusty-Man:", hero_rusty_man, file=out)
    print("Rusty-Man Teams:", hero_rusty_man.teams, file=out)
    print("Spider-Boy:", hero_spider_boy, file=out)
    print("Spider-Boy Teams:", hero_spider_boy.teams, file=out)


def link_model(session: Session, out: TextIO, models: ModuleType) -> None:
    """The chapter "Link Model with Extra Fields", as heroes_sa's demo runs it.

    See :func:`heroes_sa.demo.link_model_flow`: the second function starts
    from :meth:`Session.close`, and the new link joins the session instead of
    being appended to ``team_z_force.hero_links`` a second time.
    """
    Hero, Team, HeroTeamLink = models.Hero, models.Team, models.HeroTeamLink  # noqa: N806
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


#: A program: it runs on ``session`` with the classes of ``models``, printing to ``out``.
Program = Callable[[Session, TextIO, ModuleType], None]

#: The program of each shape (tests.parity.harness.SHAPES and LINK_MODEL).
PROGRAMS: Final[Mapping[str, Program]] = {
    "one_to_many": one_to_many,
    "many_to_many": many_to_many,
    LINK_MODEL: link_model,
}
