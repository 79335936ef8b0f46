"""The peer: the tutorial's many-to-many models, declared with SQLModel.

What a SQLModel user of the tutorial has: optional integer ids, an indexed
name and age, and ``Hero.teams`` / ``Team.heroes`` through a link model, both
ends kept in step by ``back_populates``.  ``create_all`` gives the tables of
heroes_sa's head revision (columns, types, keys, index names; only the
constraint names differ, SQLModel leaves them unnamed), so both peers load
identical rows into equivalent schemas.

Kept on a registry of its own, so importing it never touches SQLModel's
default metadata that other code in the process may use.
"""

# No ``from __future__ import annotations``: SQLModel reads the relationship
# annotations at class creation, so the one forward reference is a string.
from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel


class BenchModel(SQLModel, registry=registry()):
    """Base of the benchmark's SQLModel tables, with its own metadata."""


class HeroTeamLink(BenchModel, table=True):
    """One membership row; its two foreign keys form the primary key."""

    team_id: int | None = Field(default=None, foreign_key="team.id", primary_key=True)
    hero_id: int | None = Field(default=None, foreign_key="hero.id", primary_key=True)


class Team(BenchModel, table=True):
    """A team and its heroes."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    headquarters: str

    heroes: list["Hero"] = Relationship(back_populates="teams", link_model=HeroTeamLink)


class Hero(BenchModel, table=True):
    """A hero and the teams it is in."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    secret_name: str
    age: int | None = Field(default=None, index=True)

    teams: list[Team] = Relationship(back_populates="heroes", link_model=HeroTeamLink)
