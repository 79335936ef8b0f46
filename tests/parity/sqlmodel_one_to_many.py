"""SQLModel's side of the parity suite, revision ``0001_one_to_many``.

The tutorial's one-to-many schema as SQLModel classes: a hero has an optional
``team_id`` and ``Hero.team`` / ``Team.heroes`` are the two ends of one
relationship.  Written for the parity tests from the schema, not copied.

SQLModel puts every table model in one global registry, whose metadata is
``SQLModel.metadata``; this revision and :mod:`tests.parity.sqlmodel_many_to_many`
both define ``hero`` and ``team``.  A non-table subclass given
``registry=registry()`` gets a registry, and so a ``MetaData``, of its own
(SQLModel's metaclass makes it abstract and sets ``metadata`` from it), so
each revision's ``create_all`` builds only its own tables and the class name
``Hero`` resolves within its own revision.  A fresh ``registry()`` has a plain
``MetaData()``, the same defaults as ``SQLModel.metadata``.
"""

from typing import Final

from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel

#: The heroes_sa revision whose schema this module mirrors.
REVISION: Final = "0001_one_to_many"


class OneToManyModel(SQLModel, registry=registry()):
    """Base of this revision's table models: its own registry and metadata."""


class Team(OneToManyModel, table=True):
    """A team; ``heroes`` lists its members."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    headquarters: str

    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(OneToManyModel, table=True):
    """A hero; ``team`` is the team it belongs to, if any."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    secret_name: str
    age: int | None = Field(default=None, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")

    team: Team | None = Relationship(back_populates="heroes")


metadata: Final = OneToManyModel.metadata
