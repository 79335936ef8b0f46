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

The classes are defined in :func:`define`, so that the property tests can
have a second set that differs in one thing only (see
:class:`~tests.parity.sqlmodel_base.IdentityEquality`); the module's own
``Hero`` and ``Team`` are SQLModel's as the tutorial has them.
"""

from types import ModuleType
from typing import Any, Final

from sqlalchemy.orm import registry
from sqlmodel import Field, Relationship, SQLModel

from tests.parity.sqlmodel_base import IdentityEquality, namespace

#: The heroes_sa revision whose schema this module mirrors.
REVISION: Final = "0001_one_to_many"


def define(*, identity_equality: bool = False) -> ModuleType:
    """This revision's table models, in a registry of their own."""
    mixins: tuple[type, ...] = (IdentityEquality,) if identity_equality else ()

    class OneToManyModel(*mixins, SQLModel, registry=registry()):  # type: ignore[misc]
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

    return namespace(__name__, REVISION, OneToManyModel.metadata, Team=Team, Hero=Hero)


tutorial: Final = define()
Hero: Any = tutorial.Hero
Team: Any = tutorial.Team
metadata: Final = tutorial.metadata
