"""SQLModel's side of the parity suite, revision ``0002_many_to_many``.

The tutorial's many-to-many schema as SQLModel classes: ``heroteamlink``
holds one row per membership, its two foreign keys its primary key, and
``Hero.teams`` / ``Team.heroes`` go through it with ``link_model=``.
Written for the parity tests from the schema, not copied; the benchmark's
SQLModel peer is :data:`tutorial` too (bench/workloads.py, bench/phases.py),
so the classes a ratio compares against are the ones parity is proven on.

Like :mod:`tests.parity.sqlmodel_one_to_many`, this revision has a registry
(and so a ``MetaData``) of its own instead of SQLModel's global one, so both
revisions' ``hero`` and ``team`` can be defined in one process, and the
classes come from :func:`define`.
"""

from types import ModuleType
from typing import Any, Final

from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel

from tests.parity.sqlmodel_base import IdentityEquality, namespace

#: The heroes_sa revision whose schema this module mirrors.
REVISION: Final = "0002_many_to_many"


def define(*, identity_equality: bool = False) -> ModuleType:
    """This revision's table models, in a registry of their own."""
    mixins: tuple[type, ...] = (IdentityEquality,) if identity_equality else ()

    class ManyToManyModel(*mixins, SQLModel, registry=registry()):  # type: ignore[misc]
        """Base of this revision's table models: its own registry and metadata."""

    class HeroTeamLink(ManyToManyModel, table=True):
        """One membership: hero ``hero_id`` is in team ``team_id``."""

        team_id: int | None = Field(default=None, foreign_key="team.id", primary_key=True)
        hero_id: int | None = Field(default=None, foreign_key="hero.id", primary_key=True)

    class Team(ManyToManyModel, table=True):
        """A team; ``heroes`` lists its members."""

        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(index=True)
        headquarters: str

        heroes: list["Hero"] = Relationship(back_populates="teams", link_model=HeroTeamLink)

    class Hero(ManyToManyModel, table=True):
        """A hero; ``teams`` lists the teams it is in."""

        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(index=True)
        secret_name: str
        age: int | None = Field(default=None, index=True)

        teams: list[Team] = Relationship(back_populates="heroes", link_model=HeroTeamLink)

    return namespace(
        __name__,
        REVISION,
        ManyToManyModel.metadata,
        HeroTeamLink=HeroTeamLink,
        Team=Team,
        Hero=Hero,
    )


tutorial: Final = define()
HeroTeamLink: Any = tutorial.HeroTeamLink
Hero: Any = tutorial.Hero
Team: Any = tutorial.Team
metadata: Final = tutorial.metadata
