"""The head revision's models on a plain ``DeclarativeBase``: heroes_sa without validation.

The floor for workload 1 as SQLAlchemy itself sets it: the same tables,
columns and relationships as :mod:`heroes_sa.many_to_many`, used on the same
engine and schema, with nothing of heroes_sa's checks.  What heroes_sa's
models cost beyond this is the price of validation (docs/PERFORMANCE.md).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """A base of its own, so these classes never meet heroes_sa's in one registry."""


hero_team_link = Table(
    "heroteamlink",
    Base.metadata,
    Column("team_id", ForeignKey("team.id"), primary_key=True),
    Column("hero_id", ForeignKey("hero.id"), primary_key=True),
)


class Team(Base):
    """A team and its heroes."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    headquarters: Mapped[str]

    heroes: Mapped[list[Hero]] = relationship(secondary=hero_team_link, back_populates="teams")


class Hero(Base):
    """A hero and the teams it is in."""

    __tablename__ = "hero"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    secret_name: Mapped[str]
    age: Mapped[int | None]

    teams: Mapped[list[Team]] = relationship(secondary=hero_team_link, back_populates="heroes")
