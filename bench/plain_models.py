"""The head revision's models without heroes_sa's validation: the floors of workload 1.

Two copies of :mod:`heroes_sa.many_to_many`'s ``Hero`` and ``Team`` (same
tables, columns and relationships, used on the same engine and schema):

* :data:`PLAIN`: on a plain ``DeclarativeBase``, SQLAlchemy with nothing
  added; what heroes_sa costs beyond it is the price of validation.
* :data:`EMPTY_LISTENERS`: with listeners that do nothing, registered on the
  same events and with the same options as :mod:`heroes_sa.validation`'s.
  What it costs beyond :data:`PLAIN` is SQLAlchemy's dispatch of those
  events, which no check made in them can avoid (docs/PERFORMANCE.md, goal 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ForeignKey, Table, event
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    RelationshipProperty,
    mapped_column,
    relationship,
)

from heroes_sa.validation import LISTENER_OPTIONS


@dataclass(frozen=True)
class Models:
    """One copy of the models."""

    Hero: type[Any]
    Team: type[Any]


def _models(base: type[DeclarativeBase]) -> Models:
    link = Table(
        "heroteamlink",
        base.metadata,
        Column("team_id", ForeignKey("team.id"), primary_key=True),
        Column("hero_id", ForeignKey("hero.id"), primary_key=True),
    )

    class Team(base):  # type: ignore[valid-type,misc]
        __tablename__ = "team"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        headquarters: Mapped[str]

        heroes: Mapped[list[Hero]] = relationship(secondary=link, back_populates="teams")

    class Hero(base):  # type: ignore[valid-type,misc]
        __tablename__ = "hero"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        secret_name: Mapped[str]
        age: Mapped[int | None]

        teams: Mapped[list[Team]] = relationship(secondary=link, back_populates="heroes")

    return Models(Hero=Hero, Team=Team)


class _PlainBase(DeclarativeBase):
    pass


class _EmptyListenersBase(DeclarativeBase):
    pass


def _nothing(*_args: Any, **_kw: Any) -> None:
    return None


def _same_value(_target: Any, value: Any, *_args: Any, **_kw: Any) -> Any:
    return value


def _instrumented(_cls: type[Any], _key: str, attribute: Any) -> None:
    if isinstance(attribute.property, RelationshipProperty) and attribute.property.uselist:
        event.listen(attribute, "bulk_replace", _nothing, **LISTENER_OPTIONS)
        event.listen(attribute, "append", _same_value, **LISTENER_OPTIONS)
    else:
        event.listen(attribute, "set", _same_value, **LISTENER_OPTIONS)


event.listen(_EmptyListenersBase, "attribute_instrument", _instrumented, propagate=True)
event.listen(_EmptyListenersBase, "init", _nothing, raw=True, propagate=True)
for _name in ("before_insert", "before_update"):
    event.listen(_EmptyListenersBase, _name, _nothing, raw=True, retval=True, propagate=True)

PLAIN = _models(_PlainBase)
EMPTY_LISTENERS = _models(_EmptyListenersBase)
