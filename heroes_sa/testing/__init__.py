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
``heroes_async_engine``, ``heroes_async_session``
    The same under asyncio (an aiosqlite engine, an ``AsyncSession`` with
    the same savepoint isolation), when pytest-asyncio is installed:
    ``pip install 'heroes_sa[async-testing]'``.  See
    :mod:`heroes_sa.testing.async_fixtures`.
``@pytest.mark.heroes_revision(REV)``
    Those fixtures at revision ``REV`` instead of head.

Every fixture is small and may be overridden in a ``conftest.py``.
"""

from heroes_sa.testing.fixtures import (
    heroes_engine,
    heroes_engine_factory,
    heroes_revision,
    heroes_session,
)
from heroes_sa.testing.hooks import pytest_configure

__all__ = [
    "heroes_engine",
    "heroes_engine_factory",
    "heroes_revision",
    "heroes_session",
    "pytest_configure",
]
