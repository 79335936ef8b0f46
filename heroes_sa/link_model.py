"""The link model with extra fields (revision ``0004_link_is_training``, head).

The tutorial's chapter "Link Model with Extra Fields": each membership says
whether the hero is still training in that team, so ``HeroTeamLink`` is a
class users create and change, reached from both ends, SQLAlchemy's
Association Object pattern: ``Hero.team_links`` / ``HeroTeamLink.hero`` and
``Team.hero_links`` / ``HeroTeamLink.team``, each pair kept in step by
``back_populates``.

``Hero.teams`` and ``Team.heroes`` stay as in revision 0003, through
``secondary=`` and writable, so code written for the many-to-many models
sends the same SQL here; the memberships they write get ``is_training``'s
server default, false.  Both paths write the same table, which SQLAlchemy
does not coordinate ("Combining Association Object with Many-to-Many Access
Patterns" in its relationship docs): ``overlaps=`` says this is intended, and
docs/LINK_MODEL.md says what one session changing both paths gets.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import ForeignKey, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from heroes_sa.base import TYPE_ANNOTATION_MAP, AsyncAttrs, ReprMixin, new_metadata
from heroes_sa.validation import Validated

#: The Alembic revision whose schema these models describe (the head).
REVISION: Final = "0004_link_is_training"

# The association-object relationships that write heroteamlink's two keys,
# as Hero.teams and Team.heroes also do.
_LINK_PATHS: Final = "hero_links,team_links,hero,team"


class Base(Validated, ReprMixin, AsyncAttrs, DeclarativeBase):
    """Declarative base of the link-model revision.

    ``AsyncAttrs`` adds ``awaitable_attrs``: under ``AsyncSession``,
    ``await hero.awaitable_attrs.team_links`` loads a relationship that a
    plain attribute access could only load with blocking IO.  ``Validated``
    makes every model below check its values as they arrive
    (heroes_sa.validation).
    """

    metadata = new_metadata()
    type_annotation_map = TYPE_ANNOTATION_MAP


class HeroTeamLink(Base):
    """One membership: ``hero`` is in ``team``, in training or not."""

    __tablename__ = "heroteamlink"
    # Deleting a hero or team whose teams (heroes) are loaded deletes each
    # membership twice in one flush: through secondary= first, then as this
    # object, whose DELETE then finds its row already gone, as intended.
    __mapper_args__ = {"confirm_deleted_rows": False}  # noqa: RUF012 - read once, at mapping

    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), primary_key=True)
    # The primary key (team_id, hero_id) finds a team's heroes; this index
    # finds a hero's teams (revision 0003).
    hero_id: Mapped[int] = mapped_column(ForeignKey("hero.id"), primary_key=True, index=True)
    # The server default fills the rows Hero.teams and Team.heroes insert.
    is_training: Mapped[bool] = mapped_column(server_default=false())

    team: Mapped[Team] = relationship(back_populates="hero_links")
    hero: Mapped[Hero] = relationship(back_populates="team_links")

    def __init__(self, *, is_training: bool = False, **kwargs: Any) -> None:
        # False from the constructor, as SQLModel's field default gives it, so
        # the INSERT names the column.  A Column default would do the same for
        # the rows Hero.teams inserts, changing the SQL of revision 0003's code.
        super().__init__(is_training=is_training, **kwargs)


class Team(Base):
    """A team; ``hero_links`` are its memberships, ``heroes`` its members."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    headquarters: Mapped[str]

    # A membership lives only as long as both its ends (the association
    # object recipe): deleting the team, or removing the link, deletes it.
    hero_links: Mapped[list[HeroTeamLink]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )
    heroes: Mapped[list[Hero]] = relationship(
        secondary=HeroTeamLink.__table__, back_populates="teams", overlaps=_LINK_PATHS
    )


class Hero(Base):
    """A hero; ``team_links`` are its memberships, ``teams`` the teams it is in."""

    __tablename__ = "hero"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(index=True)
    secret_name: Mapped[str]
    age: Mapped[int | None] = mapped_column(index=True)

    team_links: Mapped[list[HeroTeamLink]] = relationship(
        back_populates="hero", cascade="all, delete-orphan"
    )
    teams: Mapped[list[Team]] = relationship(
        secondary=HeroTeamLink.__table__, back_populates="heroes", overlaps=_LINK_PATHS
    )
