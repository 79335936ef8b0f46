"""heroes_sa's pytest plugin, registered through the ``pytest11`` entry point.

Installing heroes_sa makes these available in any test suite:

``heroes_engine``
    An in-memory SQLite engine whose schema Alembic migrated (never
    ``create_all``), built once per test session and revision.
``heroes_session``
    A :class:`~sqlalchemy.orm.Session` for one test, joined to an outer
    transaction with ``join_transaction_mode="create_savepoint"``: the code
    under test may commit and roll back as it likes, and the outer rollback
    at the end leaves nothing for the next test.
``@pytest.mark.heroes_revision(REV)``
    Those fixtures at revision ``REV`` instead of head.

:func:`rolled_back_session` is ``heroes_session``'s recipe as a context
manager, for code that does not run under pytest fixtures.

Every fixture is small and may be overridden in a ``conftest.py``.
"""

from heroes_sa.testing.fixtures import (
    heroes_engine,
    heroes_engine_factory,
    heroes_revision,
    heroes_session,
    rolled_back_session,
)
from heroes_sa.testing.hooks import pytest_configure

__all__ = [
    "heroes_engine",
    "heroes_engine_factory",
    "heroes_revision",
    "heroes_session",
    "pytest_configure",
    "rolled_back_session",
]
