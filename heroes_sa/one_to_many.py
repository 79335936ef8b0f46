"""The one-to-many schema (revision ``0001_one_to_many``).

Every hero belongs to at most one team through ``hero.team_id``:
``Hero.team`` and ``Team.heroes`` are the two ends of one relationship, kept in
step by ``back_populates``.  Tables, columns, types, keys and index names are
those SQLModel's ``create_all`` builds for the tutorial's one-to-many models.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from heroes_sa.base import TYPE_ANNOTATION_MAP, AsyncAttrs, ReprMixin, new_metadata
from heroes_sa.validation import Validated

#: The Alembic revision whose schema these models describe.
REVISION: Final = "0001_one_to_many"


class Base(Validated, ReprMixin, AsyncAttrs, DeclarativeBase):
    """Declarative base of the one-to-many revision.

    ``AsyncAttrs`` adds ``awaitable_attrs``: under ``AsyncSession``,
    ``await hero.awaitable_attrs.team`` loads a relationship that a plain
    attribute access could only load with blocking IO.  ``Validated`` makes
    every model below check its values as they arrive (heroes_sa.validation).
    """

    metadata = new_metadata()
    type_annotation_map = TYPE_ANNOTATION_MAP


class Team(Base):
    """A team; ``heroes`` lists its members."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    headquarters: Mapped[str]

    heroes: Mapped[list[Hero]] = relationship(back_populates="team")


class Hero(Base):
    """A hero; ``team`` is the team it belongs to, if any."""

    __tablename__ = "hero"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    secret_name: Mapped[str]
    age: Mapped[int | None] = mapped_column(index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))

    team: Mapped[Team | None] = relationship(back_populates="heroes")
