"""What every heroes_sa models module shares: naming convention, string type, repr.

Each schema revision has its own models module with its own declarative base
(so both can be imported in one process); they build that base from the pieces
here so the revisions cannot drift apart in how they name constraints or type
strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import MetaData, String, inspect
from sqlalchemy.exc import NoInspectionAvailable
from sqlalchemy.types import TypeEngine

if TYPE_CHECKING:
    # Re-exported for the models modules, which mix it into their bases.
    from sqlalchemy.ext.asyncio import AsyncAttrs as AsyncAttrs
else:
    try:
        from sqlalchemy.ext.asyncio import AsyncAttrs
    except ImportError:  # pragma: no cover - run in a subprocess by tests/test_aio.py

        class AsyncAttrs:
            """Stands in for SQLAlchemy's ``AsyncAttrs`` where asyncio cannot run.

            SQLAlchemy's asyncio extension cannot even be imported without
            greenlet (the ``heroes_sa[async]`` extra); the models must still
            work for sync code, which never awaits an attribute.
            """


#: Constraint and index names, so every constraint has a name that a later
#: migration can drop on any backend.  ``ix`` reproduces SQLModel's index names
#: (``ix_hero_name``); the others replace backend-generated names such as
#: PostgreSQL's ``hero_team_id_fkey`` or MariaDB's ``hero_ibfk_1``.
NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Length given to string columns on MySQL/MariaDB, which require one.  SQLite
#: and PostgreSQL keep SQLModel's plain ``VARCHAR``.
MYSQL_STRING_LENGTH: Final = 255

#: The type of every ``Mapped[str]`` column: plain ``VARCHAR`` as SQLModel's
#: ``AutoString`` creates it, with a length only where the dialect needs one.
STRING: Final[TypeEngine[str]] = String().with_variant(
    String(MYSQL_STRING_LENGTH), "mysql", "mariadb"
)


def new_metadata() -> MetaData:
    """Return an empty ``MetaData`` carrying :data:`NAMING_CONVENTION`."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class NOT_LOADED:  # noqa: N801 - a sentinel shown by repr, named like one
    """Stands in ``repr()`` for a column attribute that is not loaded."""

    def __repr__(self) -> str:
        return "<not loaded>"


_NOT_LOADED: Final = NOT_LOADED()


#: Characters of a value that an error message shows; the rest is cut, and its
#: full length stated, so a megabyte of input never makes a megabyte of message.
SHOWN_LENGTH: Final = 40


def shown(value: object) -> str:
    """``repr(value)`` cut to :data:`SHOWN_LENGTH` characters, for messages.

    A longer value is cut with its full length stated: ``'xxxx...' (1,000,000
    characters)``.  A mapped object is shown as :func:`model_repr` shows it,
    each column value cut the same way.
    """
    if isinstance(value, str):
        if len(value) <= SHOWN_LENGTH:
            return repr(value)
        return f"{value[:SHOWN_LENGTH]!r}... ({len(value):,} characters)"
    if hasattr(value, "_sa_instance_state"):
        return model_repr(value, shorten=True)
    try:
        text = repr(value)
    except ValueError:
        # int.__repr__ refuses beyond sys.get_int_max_str_digits().
        return f"an int of {value.bit_length():,} bits" if isinstance(value, int) else "?"
    if len(text) <= SHOWN_LENGTH:
        return text
    return f"{text[:SHOWN_LENGTH]}... ({len(text):,} characters)"


def model_repr(obj: object, *, shorten: bool = False) -> str:
    """``ClassName(col=value, ...)`` over the table's columns, in table order.

    Reads only what the instance already holds (``inspect(obj).dict``), so it
    never emits SQL and never raises, whether the object is transient, pending,
    persistent, expired, detached or deleted.  With ``shorten``, each value is
    cut as :func:`shown` cuts it.
    """
    name = type(obj).__name__
    try:
        state = inspect(obj)
    except NoInspectionAvailable:
        # An instance built with __new__ has no instrumentation state yet.
        return f"{name}(<uninitialized>)"
    mapper = state.mapper
    loaded = state.dict
    parts = []
    for column in mapper.local_table.columns:
        key = mapper.get_property_by_column(column).key
        value: Any = loaded.get(key, _NOT_LOADED)
        parts.append(f"{key}={shown(value) if shorten else repr(value)}")
    return f"{name}({', '.join(parts)})"


#: ``type_annotation_map`` for each revision's declarative base.
TYPE_ANNOTATION_MAP: Final[dict[Any, Any]] = {str: STRING}


class ReprMixin:
    """Gives a declarative base the side-effect-free :func:`model_repr`.

    A plain mixin rather than a shared abstract base: each revision's
    ``DeclarativeBase`` must own its registry, or the two ``Hero`` classes
    would collide in one name lookup.
    """

    def __repr__(self) -> str:
        return model_repr(self)
