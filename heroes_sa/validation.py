"""What a valid value is, for every heroes_sa model, and the events that check it.

SQLAlchemy accepts almost any Python value on a mapped attribute and leaves the
database to object at flush time, with a message that names neither the object
nor the field (or, on SQLite, with no objection at all: ``age='old'`` is stored
as text).  This module is the one definition of what each column and
relationship accepts.  The ORM applies it through events, as values arrive;
:func:`heroes_sa.bulk.bulk_create` applies the same rules, with the same
messages, to its rows before its first statement.

The rules (docs/RELIABILITY.md lists them with their messages):

* a column: a required column (not nullable, not filled in by the database)
  is given to the constructor and never set to ``None``; a value has the
  column's Python type (``bool`` is not an ``int``); an ``int`` fits a 64-bit
  column, a ``str`` can be encoded (no lone surrogates);
* on a given database, checked before the row is sent, where the dialect is
  known: an ``int`` fits the column's range there (32 bits for ``INTEGER`` on
  PostgreSQL and MariaDB), a ``str`` fits the column's length (MariaDB's
  ``VARCHAR(255)``) and holds no NUL on PostgreSQL;
* a relationship: members come from the same models module (a
  ``one_to_many.Team`` cannot join a ``many_to_many.Hero``), are not deleted
  or detached, and are not put twice into one collection; nothing is linked
  to an object that has been deleted.

A model gets every rule from its column types, nullability and relationships:
:class:`Validated`, among the bases of a revision's declarative base, hangs the
events on that base as it is created, before any model can be mapped under it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Column, Connection, Dialect, event, inspect
from sqlalchemy.orm import (
    MANYTOONE,
    ColumnProperty,
    DeclarativeBase,
    InstanceState,
    Mapper,
    RelationshipProperty,
    object_session,
)
from sqlalchemy.orm.attributes import OP_APPEND, AttributeEventToken, instance_state
from sqlalchemy.sql import ClauseElement
from sqlalchemy.types import BigInteger, SmallInteger, TypeEngine

from heroes_sa.base import shown
from heroes_sa.errors import InvalidValueError

#: A class as a functools.cache key (mypy does not see classes as Hashable).
_Class = Any


def _class_of(obj: object) -> _Class:
    return type(obj)


#: The widest integer column any backend has (SQLite's INTEGER, everyone's
#: BIGINT): an int outside it fits no database, whichever is used later.
WIDEST_INTEGER: Final = (-(2**63), 2**63 - 1)


def _is_generated(column: Column[Any]) -> bool:
    """True for a column the database fills in when it is left out."""
    return (
        column.default is not None
        or column.server_default is not None
        or column.table.autoincrement_column is column
    )


def _unencodable(value: str) -> str | None:
    """Why ``value`` cannot be sent to a database, or ``None``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return (
            f"holds a lone surrogate ({value[error.start]!r} at index {error.start}),"
            " which no database can store"
        )
    return None


# --- columns ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ColumnRule:
    """What one mapped column accepts, on any database.

    :meth:`problem` is the definition; :attr:`accepts` is a fast test for the
    common case that never says yes where :meth:`problem` would object (it
    may say no to a valid value, which :meth:`problem` then clears).
    """

    model: str
    key: str
    column: Column[Any]
    #: The column type's Python type (``int``, ``str``, ``bool``...), or
    #: ``None`` for a type that names none, whose values are not checked.
    python_type: type | None
    #: Whether ``None`` may be given: the column is nullable, or the database fills it in.
    nullable: bool
    #: Whether the constructor must be given this column.
    required: bool
    accepts: Callable[[Any], bool] = field(repr=False)

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` for this column, or ``None``."""
        if value is None:
            return None if self.nullable else "is required; got None"
        if isinstance(value, ClauseElement) or self.python_type is None:
            return None  # a SQL expression, evaluated by the database; or not checked
        expected = self.python_type
        if not isinstance(value, expected) or (value.__class__ is bool and expected is not bool):
            name = expected.__name__
            article = "an" if name[0] in "aeiou" else "a"
            return f"must be {article} {name}; got {type(value).__name__} {shown(value)}"
        if isinstance(value, int) and expected is int:
            return _out_of_range(value, WIDEST_INTEGER, "")
        if isinstance(value, str):
            return _unencodable(value)
        return None


def _out_of_range(value: int, bounds: tuple[int, int], where: str) -> str | None:
    low, high = bounds
    if low <= value <= high:
        return None
    return f"must be between {low} and {high}{where}; got {shown(value)}"


def _accepts_for(python_type: type | None, nullable: bool) -> Callable[[Any], bool]:
    if python_type is str:

        def accepts_str(value: Any) -> bool:
            # ASCII encodes everywhere; anything else goes to problem().
            return value.__class__ is str and value.isascii()

        return accepts_str
    if python_type is int:
        low, high = WIDEST_INTEGER

        def accepts_int(value: Any) -> bool:
            return (value.__class__ is int and low <= value <= high) or (value is None and nullable)

        return accepts_int

    def accepts_exact(value: Any) -> bool:
        return value.__class__ is python_type or (value is None and nullable)

    return accepts_exact


@functools.cache
def column_rule(model: str, key: str, column: Column[Any]) -> ColumnRule:
    """The rule of ``column``, mapped as attribute ``key`` of class ``model``."""
    python_type: type | None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = None
    generated = _is_generated(column)
    nullable = bool(column.nullable) or generated
    return ColumnRule(
        model=model,
        key=key,
        column=column,
        python_type=python_type,
        nullable=nullable,
        required=not column.nullable and not generated,
        accepts=_accepts_for(python_type, nullable),
    )


@functools.cache
def column_rules(mapper: Mapper[Any]) -> tuple[ColumnRule, ...]:
    """The rule of each column attribute of ``mapper``, in table order."""
    model = mapper.class_.__name__
    return tuple(
        column_rule(model, mapper.get_property_by_column(column).key, column)
        for column in mapper.local_table.columns
        if isinstance(column, Column)
    )


@functools.cache
def required_keys(mapper: Mapper[Any]) -> frozenset[str]:
    """The attributes a constructor of ``mapper``'s class must be given."""
    return frozenset(rule.key for rule in column_rules(mapper) if rule.required)


@functools.cache
def _required_by_class(cls: _Class) -> frozenset[str]:
    # By class: state.class_ is a plain attribute, state.mapper a property.
    return required_keys(inspect(cls))


@functools.cache
def _filled_by(mapper: Mapper[Any]) -> dict[str, frozenset[str]]:
    """Column key -> the many-to-one relationships whose object fills that column."""
    filled: dict[str, set[str]] = {}
    for relationship in mapper.relationships:
        if relationship.direction is MANYTOONE:
            for column in relationship.local_columns:
                key = mapper.get_property_by_column(column).key
                filled.setdefault(key, set()).add(relationship.key)
    return {key: frozenset(keys) for key, keys in filled.items()}


def missing_required(mapper: Mapper[Any], given: Iterable[str]) -> str | None:
    """``is missing required 'a', 'b'`` when ``given`` lacks required keys, else ``None``.

    A foreign key column that a many-to-one relationship fills is not asked of
    the constructor: the relationship may be set later, as in the association
    object idiom ``hero.team_links.append(HeroTeamLink(team=team))``, and the
    flush copies its id.  :func:`missing_ends` checks it before the INSERT.
    """
    given = set(given)
    filled_by = _filled_by(mapper)
    missing = [
        rule.key
        for rule in column_rules(mapper)
        if rule.required and rule.key not in given and rule.key not in filled_by
    ]
    if not missing:
        return None
    return "is missing required " + ", ".join(repr(key) for key in missing)


def missing_ends(state: InstanceState[Any]) -> None:
    """Raise :class:`InvalidValueError` for a required foreign key no relationship filled.

    Run before the INSERT, when the flush has copied the related objects' ids.
    """
    for key, relationships in _filled_by(state.mapper).items():
        if state.dict.get(key) is None and column_rules_by_key(state.mapper)[key].required:
            ends = " or ".join(sorted(relationships))
            raise InvalidValueError(
                f"{state.class_.__name__}.{key} is required; got None: give {shown(state.obj())}"
                f" its {ends} before it is saved"
            )


@functools.cache
def column_rules_by_key(mapper: Mapper[Any]) -> dict[str, ColumnRule]:
    """:func:`column_rules` of ``mapper`` by attribute key."""
    return {rule.key: rule for rule in column_rules(mapper)}


# --- columns, on one database ---------------------------------------------------------


@dataclass(frozen=True)
class DialectLimits:
    """What one column holds on one dialect, beyond :class:`ColumnRule`."""

    rule: ColumnRule
    dialect: str
    max_length: int | None = None
    refuses_nul: bool = False
    integer_range: tuple[int, int] | None = None

    def problem(self, value: Any) -> str | None:
        """What this database cannot store of ``value``, or ``None``."""
        if isinstance(value, str):
            if self.max_length is not None and len(value) > self.max_length:
                return (
                    f"is {len(value):,} characters long; the {self.dialect} column holds"
                    f" at most {self.max_length}"
                )
            if self.refuses_nul and "\x00" in value:
                return f"contains a NUL character, which {self.dialect} cannot store"
        elif self.integer_range is not None and value.__class__ is int:
            return _out_of_range(value, self.integer_range, f" on {self.dialect}")
        return None


def integer_range(type_: TypeEngine[Any], dialect: Dialect) -> tuple[int, int]:
    """The values an integer column of ``type_`` holds on ``dialect``."""
    if dialect.name == "sqlite":
        return WIDEST_INTEGER  # every INTEGER is 64-bit there
    bits = 64 if isinstance(type_, BigInteger) else 16 if isinstance(type_, SmallInteger) else 32
    if getattr(type_, "unsigned", False):  # MySQL's UNSIGNED
        return (0, 2**bits - 1)
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@functools.cache
def _limits(rule: ColumnRule, dialect_class: _Class) -> DialectLimits | None:
    # Keyed by the dialect's class, not the instance, so engines created and
    # disposed by the thousand (one per test) do not pile up in the cache.
    dialect = dialect_class()
    type_ = rule.column.type.dialect_impl(dialect)
    name = dialect.name
    if rule.python_type is str:
        length = getattr(type_, "length", None)
        refuses_nul = name == "postgresql"
        if length is None and not refuses_nul:
            return None
        return DialectLimits(rule, name, max_length=length, refuses_nul=refuses_nul)
    if rule.python_type is int:
        bounds = integer_range(type_, dialect)
        if bounds == WIDEST_INTEGER:
            return None  # already checked as the value was set
        return DialectLimits(rule, name, integer_range=bounds)
    return None


@functools.cache
def _flush_limits(mapper: Mapper[Any], dialect_class: _Class) -> tuple[DialectLimits, ...]:
    found = (_limits(rule, dialect_class) for rule in column_rules(mapper))
    return tuple(limits for limits in found if limits is not None)


def check_for_dialect(state: InstanceState[Any], dialect: Dialect) -> None:
    """Raise :class:`InvalidValueError` for a value of ``state`` that ``dialect`` cannot store."""
    for limits in _flush_limits(state.mapper, _class_of(dialect)):
        problem = limits.problem(state.dict.get(limits.rule.key))
        if problem is not None:
            raise InvalidValueError(
                f"{limits.rule.model}.{limits.rule.key} {problem} ({shown(state.obj())})"
            )


@dataclass(frozen=True)
class RowRules:
    """The rules of one model's rows given as mappings (for bulk inserts), on one dialect.

    The same :class:`ColumnRule` and :class:`DialectLimits` as the ORM's, so a
    row is refused exactly where the same values given to the model's
    constructor and flushed would be, with the same message.
    """

    model: Mapper[Any]
    #: The keys a row may have: every column the database does not number itself.
    keys: tuple[str, ...]
    key_set: frozenset[str]
    required: frozenset[str]
    columns: tuple[tuple[ColumnRule, DialectLimits | None], ...]

    def check(self, where: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        """The row to insert for ``entry``; raises :class:`InvalidValueError` naming ``where``.

        A key left out that is not required is ``None`` in the row.
        """
        given = entry.keys()
        if not (given >= self.required and given <= self.key_set):
            unknown = sorted(str(key) for key in given if key not in self.key_set)
            if unknown:
                raise InvalidValueError(
                    f"{where} has unknown keys {unknown}; the keys are {list(self.keys)}"
                )
            raise InvalidValueError(f"{where} {missing_required(self.model, given)}")
        row = {}
        for rule, limits in self.columns:
            value = entry.get(rule.key)
            problem = None if rule.accepts(value) else rule.problem(value)
            if problem is None and limits is not None and value is not None:
                problem = limits.problem(value)
            if problem is not None:
                raise InvalidValueError(f"{where}[{rule.key!r}] {problem}")
            row[rule.key] = value
        return row


@functools.cache
def _row_rules(mapper: Mapper[Any], dialect_class: _Class) -> RowRules:
    columns = tuple(
        (rule, _limits(rule, dialect_class))
        for rule in column_rules(mapper)
        if rule.column is not rule.column.table.autoincrement_column
    )
    return RowRules(
        model=mapper,
        keys=tuple(rule.key for rule, _ in columns),
        key_set=frozenset(rule.key for rule, _ in columns),
        required=required_keys(mapper),
        columns=columns,
    )


def row_rules(mapper: Mapper[Any], dialect: Dialect) -> RowRules:
    """How rows of ``mapper``'s table given as mappings are checked on ``dialect``."""
    return _row_rules(mapper, _class_of(dialect))


# --- relationships -------------------------------------------------------------------


def link_problem(
    owner: InstanceState[Any], where: str, expected: type[Any], value: Any
) -> str | None:
    """What is wrong with linking ``value`` to ``owner`` at ``where``, or ``None``.

    ``where`` is ``Class.key``; ``expected`` the class the relationship targets.
    """
    if owner.key is not None and (owner.deleted or owner.was_deleted):
        return f"{where}: {shown(owner.obj())} has been deleted; nothing can be linked to it"
    if not isinstance(value, expected):
        other = type(value)
        problem = (
            f"{where} takes {expected.__module__}.{expected.__name__} objects; got"
            f" {other.__module__}.{other.__name__} {shown(value)}"
        )
        if hasattr(value, "_sa_instance_state"):
            problem += " (objects of different heroes_sa revisions cannot be mixed)"
        return problem
    state = instance_state(value)
    if state.key is None:
        return None  # transient or pending: never stored, so neither deleted nor detached
    if state.deleted or state.was_deleted:
        return f"{where}: {shown(value)} has been deleted and cannot be linked"
    if state.detached:
        return (
            f"{where}: {shown(value)} is detached from its session; bring it back with"
            " session.merge() (or session.add()) before linking it"
        )
    return None


# --- the events --------------------------------------------------------------------------
#
# Listeners are attached as each attribute is instrumented, which is before the
# mapper is configured and so before SQLAlchemy's back_populates handler:
# listeners run in registration order, so a refused value leaves both ends of
# a relationship untouched.
#
# Why not @validates(..., include_backrefs=False): a validator is called once
# per value, for an append and for every value of a list assignment alike, so
# it cannot tell ``hero.teams.append(team)`` (refused: team is already there)
# from ``hero.teams = [team, other]`` (fine: team stays).  The rule "a
# membership is stored once" needs the whole list, which only the bulk_replace
# event sees.  What @validates would do on top (leave the back_populates end
# to itself) is the one test ``initiator.key != key`` below.


#: Listener options under which SQLAlchemy calls a listener as it is, with no
#: wrapper function in between (events.AttributeEvents._listen): a wrapper
#: call costs as much as the check itself, on every value set.
LISTENER_OPTIONS: Final = {"raw": True, "retval": True, "include_key": True}


def _install_column(attribute: Any, rule: ColumnRule) -> None:
    accepts = rule.accepts
    # A NOT NULL column the database fills in takes None only until the row is
    # inserted, where None means "leave it out"; an UPDATE would send NULL.
    only_before_insert = rule.nullable and not rule.column.nullable

    def on_set(state: InstanceState[Any], value: Any, _old: Any, _initiator: Any) -> Any:
        if accepts(value):
            if value is None and only_before_insert and state.key is not None:
                raise InvalidValueError(
                    f"{rule.model}.{rule.key} is required once the row is stored; got None"
                )
            return value
        problem = rule.problem(value)
        if problem is not None:
            raise InvalidValueError(f"{rule.model}.{rule.key} {problem}")
        return value

    event.listen(attribute, "set", on_set, **LISTENER_OPTIONS)


def _refuse_link(owner: InstanceState[Any], key: str, target: type[Any], value: Any) -> None:
    problem = link_problem(owner, f"{owner.class_.__name__}.{key}", target, value)
    if problem is not None:
        raise InvalidValueError(problem)


@functools.cache
def _association_ends(mapper: Mapper[Any]) -> dict[str, str]:
    """For an association object (its primary key is its many-to-one keys): end -> backref.

    ``HeroTeamLink``: ``{"hero": "team_links", "team": "hero_links"}``.  Empty
    for any other model.
    """
    ends = {
        rel.key: rel.back_populates
        for rel in mapper.relationships
        if rel.direction is MANYTOONE and rel.back_populates
    }
    covered = {column for key in ends for column in mapper.relationships[key].local_columns}
    if len(ends) < 2 or set(mapper.primary_key) != covered:
        return {}
    return ends


def _refuse_second_association(
    state: InstanceState[Any], key: str, value: Any, ends: dict[str, str]
) -> None:
    """Refuse ``state`` becoming a second association object between the same ends.

    Looked up in ``value``'s collection as loaded (``state.dict``: reading it
    could load it); one that is not loaded is left to the primary key.
    """
    others = {other: state.dict.get(other) for other in ends if other != key}
    if any(end is None for end in others.values()):
        return  # not every end is known yet: the last one to be set checks
    for sibling in instance_state(value).dict.get(ends[key], ()):
        if sibling is state.obj():
            continue
        sibling_dict = instance_state(sibling).dict
        if all(sibling_dict.get(other) is end for other, end in others.items()):
            named = ", ".join(shown(end) for end in (value, *others.values()))
            raise InvalidValueError(
                f"{state.class_.__name__}.{key}: {shown(sibling)} already links {named};"
                " a membership is stored once"
            )


def _install_relationship(attribute: Any, key: str, prop: RelationshipProperty[Any]) -> None:
    # The fast tests below pass a new member of the exact target class linked
    # to a new owner, the common case, without a call: neither can have been
    # deleted or detached.  Anything else gets the full link_problem().

    def on_set(
        state: InstanceState[Any], value: Any, _old: Any, initiator: AttributeEventToken
    ) -> Any:
        # The other end of back_populates fires too; it checks on its own side.
        if value is not None and initiator.key == key:
            _refuse_link(state, key, prop.mapper.class_, value)
            # Looked up as values arrive: the mapper is configured by then.
            ends = _association_ends(state.mapper)
            if key in ends:
                _refuse_second_association(state, key, value, ends)
        return value

    def on_bulk_replace(
        state: InstanceState[Any], values: list[Any], _initiator: AttributeEventToken, **_: Any
    ) -> None:
        # Fires on the side assigned to only, before anything changes.
        target = prop.mapper.class_
        new_owner = state.key is None
        for value in values:
            if not (new_owner and value.__class__ is target and instance_state(value).key is None):
                _refuse_link(state, key, target, value)
        if len(values) > 1 and len(set(map(id, values))) != len(values):
            seen: set[int] = set()
            for value in values:
                if id(value) in seen:
                    raise InvalidValueError(
                        f"{state.class_.__name__}.{key} was given {shown(value)} twice;"
                        " a membership is stored once"
                    )
                seen.add(id(value))

    def on_append(
        state: InstanceState[Any], value: Any, initiator: AttributeEventToken, **_: Any
    ) -> Any:
        # Values of a list assignment were checked as a list (on_bulk_replace);
        # an append through back_populates is checked on the side appended to.
        if initiator.op is not OP_APPEND or initiator.key != key:
            return value
        _refuse_link(state, key, prop.mapper.class_, value)
        # state.dict: the collection as loaded; reading the attribute could load it.
        if any(member is value for member in state.dict.get(key, ())):
            raise InvalidValueError(
                f"{shown(state.obj())}.{key} already holds {shown(value)}; a membership is"
                " stored once"
            )
        return value

    if prop.uselist:
        event.listen(attribute, "bulk_replace", on_bulk_replace, **LISTENER_OPTIONS)
        event.listen(attribute, "append", on_append, **LISTENER_OPTIONS)
    else:
        event.listen(attribute, "set", on_set, **LISTENER_OPTIONS)


def _on_attribute_instrument(cls: type[Any], key: str, attribute: Any) -> None:
    prop = attribute.property
    if isinstance(prop, RelationshipProperty):
        _install_relationship(attribute, key, prop)
    elif isinstance(prop, ColumnProperty) and isinstance(prop.columns[0], Column):
        _install_column(attribute, column_rule(cls.__name__, key, prop.columns[0]))


def _on_init(state: Any, _args: Any, kwargs: dict[str, Any]) -> None:
    # state: an InstanceState; Any, so that its class_ passes as a cache key.
    if not kwargs.keys() >= _required_by_class(state.class_):
        problem = missing_required(state.mapper, kwargs)
        if problem is not None:
            raise InvalidValueError(f"{state.class_.__name__}() {problem}")


def _on_init_failure(state: InstanceState[Any], _args: Any, _kwargs: Any) -> None:
    # A constructor refused one keyword after others were set: a many-to-one
    # already set has listed the object at the other end (back_populates), and
    # the save-update cascade may have added it to that end's session.  Undo
    # both, so the half-made object is left nowhere.
    obj = state.obj()
    for relationship in state.mapper.relationships:
        if not relationship.uselist and state.dict.get(relationship.key) is not None:
            setattr(obj, relationship.key, None)
    session = object_session(obj)
    if session is not None and state.key is None:
        session.expunge(obj)


def _on_write(_mapper: Mapper[Any], connection: Connection, state: InstanceState[Any]) -> None:
    check_for_dialect(state, connection.dialect)


def _on_insert(mapper: Mapper[Any], connection: Connection, state: InstanceState[Any]) -> None:
    missing_ends(state)
    check_for_dialect(state, connection.dialect)


class Validated:
    """Mixin for a declarative base: every model mapped under it checks its values.

    Listed among the bases of a ``DeclarativeBase`` subclass, it attaches the
    events as that base class is created, so that every model, defined after
    its base by necessity, is covered::

        class Base(Validated, DeclarativeBase):
            pass
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if DeclarativeBase in cls.__bases__:
            event.listen(cls, "attribute_instrument", _on_attribute_instrument, propagate=True)
            event.listen(cls, "init", _on_init, raw=True, propagate=True)
            event.listen(cls, "init_failure", _on_init_failure, raw=True, propagate=True)
            # retval: no wrapper either; SQLAlchemy ignores what these return.
            event.listen(cls, "before_insert", _on_insert, raw=True, retval=True, propagate=True)
            event.listen(cls, "before_update", _on_write, raw=True, retval=True, propagate=True)
