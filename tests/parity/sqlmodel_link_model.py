"""SQLModel's side of the parity suite for the chapter "Link Model with Extra Fields".

The tutorial's ``docs_src/tutorial/many_to_many/tutorial003`` classes:
``HeroTeamLink`` carries ``is_training`` and the relationships ``team`` and
``hero``, reached from ``Team.hero_links`` and ``Hero.team_links``; there is
no ``Hero.teams`` / ``Team.heroes``.  Written for the parity tests from the
chapter, not copied.

As in :mod:`tests.parity.sqlmodel_many_to_many`, the classes get a registry
(and so a ``MetaData``) of their own, and come from :func:`define`.
"""

from types import ModuleType
from typing import Any, Final

from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel

from tests.parity.sqlmodel_base import IdentityEquality, namespace

#: The heroes_sa revision of this chapter.  Its schema is SQLModel's plus the
#: index of 0003 and a server default for ``is_training`` (see test_link_model.py).
REVISION: Final = "0004_link_is_training"


def define(*, identity_equality: bool = False) -> ModuleType:
    """The chapter's table models, in a registry of their own."""
    mixins: tuple[type, ...] = (IdentityEquality,) if identity_equality else ()

    class LinkModel(*mixins, SQLModel, registry=registry()):  # type: ignore[misc]
        """Base of the chapter's table models: its own registry and metadata."""

    class HeroTeamLink(LinkModel, table=True):
        """One membership, and whether the hero is still training in that team."""

        team_id: int | None = Field(default=None, foreign_key="team.id", primary_key=True)
        hero_id: int | None = Field(default=None, foreign_key="hero.id", primary_key=True)
        is_training: bool = False

        team: "Team" = Relationship(back_populates="hero_links")
        hero: "Hero" = Relationship(back_populates="team_links")

    class Team(LinkModel, table=True):
        """A team; ``hero_links`` are its memberships."""

        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(index=True)
        headquarters: str

        hero_links: list[HeroTeamLink] = Relationship(back_populates="team")

    class Hero(LinkModel, table=True):
        """A hero; ``team_links`` are its memberships."""

        id: int | None = Field(default=None, primary_key=True)
        name: str = Field(index=True)
        secret_name: str
        age: int | None = Field(default=None, index=True)

        team_links: list[HeroTeamLink] = Relationship(back_populates="hero")

    return namespace(
        __name__,
        REVISION,
        LinkModel.metadata,
        HeroTeamLink=HeroTeamLink,
        Team=Team,
        Hero=Hero,
    )


tutorial: Final = define()
HeroTeamLink: Any = tutorial.HeroTeamLink
Hero: Any = tutorial.Hero
Team: Any = tutorial.Team
metadata: Final = tutorial.metadata
