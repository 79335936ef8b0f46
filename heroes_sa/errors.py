"""Exceptions heroes_sa raises itself (SQLAlchemy's own pass through)."""

from __future__ import annotations


class HeroesError(Exception):
    """Base class of every error heroes_sa raises itself."""


class MigrationRefusedError(HeroesError):
    """A migration found data it cannot carry over; nothing was changed."""


class MigrationError(HeroesError):
    """A migration cannot run on this connection as it was given."""


class WrongRevisionError(HeroesError):
    """The database is not at the schema revision an operation needs."""


class DatabaseNotEmptyError(HeroesError):
    """An operation that only writes into an empty database found data."""


class InvalidValueError(HeroesError, ValueError):
    """A model attribute was given a value its column or relationship cannot hold.

    The message names the object, the attribute and what was wrong; nothing has
    been sent to the database, so the session is unaffected.
    """
