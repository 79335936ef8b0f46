"""The many-to-many schema (revision ``0003_link_hero_id_index``).

A hero belongs to any number of teams through the ``heroteamlink`` table,
whose two foreign keys together form its primary key.  ``Hero.teams`` and
``Team.heroes`` are the two ends of one relationship through ``secondary=``,
kept in step by ``back_populates``.  Tables, columns, types, keys and index
names are those SQLModel's ``create_all`` builds for the tutorial's
many-to-many models (revision ``0002_many_to_many``), plus one index SQLModel
lacks: ``ix_heroteamlink_hero_id`` (revision ``0003_link_hero_id_index``),
without which loading a hero's teams scans the whole link table.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from heroes_sa.base import TYPE_ANNOTATION_MAP, AsyncAttrs, ReprMixin, new_metadata
from heroes_sa.validation import Validated

#: The Alembic revision whose schema these models describe.
REVISION: Final = "0003_link_hero_id_index"


class Base(Validated, ReprMixin, AsyncAttrs, DeclarativeBase):
    """Declarative base of the many-to-many revision.

    ``AsyncAttrs`` adds ``awaitable_attrs``: under ``AsyncSession``,
    ``await hero.awaitable_attrs.teams`` loads a relationship that a plain
    attribute access could only load with blocking IO.  ``Validated`` makes
    every model below check its values as they arrive (heroes_sa.validation).
    """

    metadata = new_metadata()
    type_annotation_map = TYPE_ANNOTATION_MAP


class HeroTeamLink(Base):
    """One membership: hero ``hero_id`` is in team ``team_id``.

    Mapped so the table is part of the metadata and can be queried; the
    relationships below write it through ``secondary=``, so user code normally
    never creates these objects itself.
    """

    __tablename__ = "heroteamlink"

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    # The primary key (team_id, hero_id) finds a team's heroes; this index
    # finds a hero's teams, which Hero.teams loads (revision 0003).
    hero_id: Mapped[int] = mapped_column(ForeignKey("hero.id"), primary_key=True, index=True)


class Team(Base):
    """A team; ``heroes`` lists its members."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    headquarters: Mapped[str]

    heroes: Mapped[list[Hero]] = relationship(
        secondary=HeroTeamLink.__table__, back_populates="teams"
    )


class Hero(Base):
    """A hero; ``teams`` lists the teams it is in."""

    __tablename__ = "hero"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    secret_name: Mapped[str]
    age: Mapped[int | None] = mapped_column(index=True)

    teams: Mapped[list[Team]] = relationship(
        secondary=HeroTeamLink.__table__, back_populates="heroes"
    )
