"""Early, clear errors for misuse of the models, before anything reaches SQL.

SQLAlchemy accepts almost any Python value on a mapped attribute and leaves
the database to object at flush time, with a message that names neither the
object nor the field (or, on SQLite, with no objection at all: ``age='old'``
is stored as text).  :func:`install` hangs attribute and mapper events on a
declarative base so that every model of it checks, as the value arrives:

* columns: a required column is neither missing from the constructor nor set
  to ``None``; values have the column's Python type (``bool`` is not an int);
* relationships: members come from the same models module (a
  ``one_to_many.Team`` cannot join a ``many_to_many.Hero``), are not deleted
  or detached, and are not put twice into the same collection.

String length depends on the database (only MySQL/MariaDB give the columns
one), so it is checked at flush, against the column type the connection's
dialect actually uses, before the row is sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Connection, event, inspect
from sqlalchemy.orm import ColumnProperty, InstanceState, Mapper, RelationshipProperty
from sqlalchemy.orm.attributes import OP_BULK_REPLACE as _BULK_REPLACE
from sqlalchemy.orm.attributes import Event
from sqlalchemy.sql import ClauseElement
from sqlalchemy.types import Integer, String

from heroes_sa.errors import InvalidValueError


def _name(obj: object) -> str:
    return repr(obj)


def _is_generated(column: Column[Any]) -> bool:
    """True for a column the database fills in when it is left out."""
    return (
        column.default is not None
        or column.server_default is not None
        or column.table.autoincrement_column is column
    )


_REQUIRED_KEYS: dict[type[Any], tuple[str, ...]] = {}


def _required_keys(cls: type[Any]) -> tuple[str, ...]:
    """Attributes a constructor must be given: non-null columns nobody else fills."""
    if cls not in _REQUIRED_KEYS:
        _REQUIRED_KEYS[cls] = tuple(
            prop.key
            for prop in inspect(cls).column_attrs
            for column in prop.columns
            if isinstance(column, Column) and not column.nullable and not _is_generated(column)
        )
    return _REQUIRED_KEYS[cls]


def check_column_value(owner: object, key: str, column: Column[Any], value: Any) -> None:
    """Raise :class:`InvalidValueError` unless ``value`` fits ``column``."""
    if value is None:
        if not column.nullable and not _is_generated(column):
            raise InvalidValueError(f"{type(owner).__name__}.{key} is required; got None")
        return
    if isinstance(value, ClauseElement):
        return  # a SQL expression, evaluated by the database
    if isinstance(column.type, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidValueError(
                f"{type(owner).__name__}.{key} must be an int; got {type(value).__name__} {value!r}"
            )
    elif isinstance(column.type, String) and not isinstance(value, str):
        raise InvalidValueError(
            f"{type(owner).__name__}.{key} must be a str; got {type(value).__name__} {value!r}"
        )


def check_member(owner: object, key: str, expected: type[Any], value: Any) -> None:
    """Raise :class:`InvalidValueError` unless ``value`` may be linked at ``owner.key``."""
    if value is None:
        return
    where = f"{type(owner).__name__}.{key}"
    if not isinstance(value, expected):
        raise InvalidValueError(
            f"{where} takes {expected.__module__}.{expected.__name__} objects; got"
            f" {type(value).__module__}.{type(value).__name__} {_name(value)}"
            " (objects of different heroes_sa revisions cannot be mixed)"
        )
    state = inspect(value)
    if state.deleted or state.was_deleted:
        raise InvalidValueError(f"{where}: {_name(value)} has been deleted and cannot be linked")
    if state.detached:
        raise InvalidValueError(
            f"{where}: {_name(value)} is detached from its session; bring it back with"
            " session.merge() (or session.add()) before linking it"
        )


def _install_column(attribute: Any, key: str, column: Column[Any]) -> None:
    def on_set(target: Any, value: Any, _old: Any, _initiator: Event) -> Any:
        check_column_value(target, key, column, value)
        return value

    event.listen(attribute, "set", on_set, retval=True)


def _install_relationship(attribute: Any, key: str) -> None:
    # Registered when the attribute is instrumented, before the mapper is
    # configured: listeners run in registration order, so these come before
    # the back_populates handler and a refused value leaves both ends untouched.

    def initiated_here(state: InstanceState[Any], initiator: Event) -> bool:
        # The other end of back_populates fires too; it checks on its own side.
        return initiator.impl is state.manager[key].impl

    def expected(state: InstanceState[Any]) -> type[Any]:
        target_class: type[Any] = state.manager[key].property.mapper.class_
        return target_class

    def on_set(state: InstanceState[Any], value: Any, _old: Any, initiator: Event) -> Any:
        if initiated_here(state, initiator):
            check_member(state.obj(), key, expected(state), value)
        return value

    def on_append(state: InstanceState[Any], value: Any, initiator: Event) -> Any:
        if initiator.op is not _BULK_REPLACE and initiated_here(state, initiator):
            owner = state.obj()
            check_member(owner, key, expected(state), value)
            # state.dict: the collection as loaded; reading the attribute could load it.
            if any(member is value for member in state.dict.get(key, ())):
                raise InvalidValueError(
                    f"{_name(owner)}.{key} already holds {_name(value)}; a membership is"
                    " stored once"
                )
        return value

    def on_bulk_replace(state: InstanceState[Any], values: list[Any], initiator: Event) -> None:
        if not initiated_here(state, initiator):
            return
        owner = state.obj()
        seen: set[int] = set()
        for value in values:
            check_member(owner, key, expected(state), value)
            if id(value) in seen:
                raise InvalidValueError(
                    f"{type(owner).__name__}.{key} was given {_name(value)} twice; a"
                    " membership is stored once"
                )
            seen.add(id(value))

    event.listen(attribute, "set", on_set, raw=True, retval=True)
    event.listen(attribute, "append", on_append, raw=True, retval=True)
    event.listen(attribute, "bulk_replace", on_bulk_replace, raw=True)


def _on_attribute_instrument(_cls: type[Any], key: str, attribute: Any) -> None:
    prop = attribute.property
    if isinstance(prop, RelationshipProperty):
        _install_relationship(attribute, key)
    elif isinstance(prop, ColumnProperty):
        (column,) = prop.columns
        if isinstance(column, Column):
            _install_column(attribute, key, column)


def _on_init(target: Any, _args: Any, kwargs: dict[str, Any]) -> None:
    missing = [key for key in _required_keys(type(target)) if key not in kwargs]
    if missing:
        raise InvalidValueError(
            f"{type(target).__name__}() is missing required "
            + ", ".join(repr(key) for key in missing)
        )


def install(base: type[Any]) -> None:
    """Make every model mapped under ``base`` check values as they are given."""
    event.listen(base, "init", _on_init, propagate=True)
    event.listen(base, "attribute_instrument", _on_attribute_instrument, propagate=True)
    event.listen(base, "before_insert", _on_write, propagate=True)
    event.listen(base, "before_update", _on_write, propagate=True)


def check_strings(connection: Connection, target: Any) -> None:
    """Raise :class:`InvalidValueError` for a string this database cannot store.

    Run before INSERT and UPDATE, where the dialect is known: the limit is the
    length the column type has on this dialect (MySQL/MariaDB only), and
    PostgreSQL cannot store the NUL character that SQLite and MariaDB keep.
    """
    dialect = connection.dialect
    state = inspect(target)
    for prop in state.mapper.column_attrs:
        value = state.dict.get(prop.key)
        if not isinstance(value, str):
            continue
        where = f"{type(target).__name__}.{prop.key}"
        (column,) = prop.columns
        limit = getattr(column.type.dialect_impl(dialect), "length", None)
        if limit is not None and len(value) > limit:
            raise InvalidValueError(
                f"{where} is {len(value)} characters long; the {dialect.name} column holds"
                f" at most {limit} ({_name(target)})"
            )
        if dialect.name == "postgresql" and "\x00" in value:
            raise InvalidValueError(
                f"{where} contains a NUL character, which PostgreSQL cannot store ({_name(target)})"
            )


def _on_write(_mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    check_strings(connection, target)
