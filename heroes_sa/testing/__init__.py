"""heroes_sa's pytest plugin, registered through the ``pytest11`` entry point.

Installing heroes_sa makes these available in any test suite:

``heroes_engine``
    An engine whose schema Alembic migrated (never ``create_all``), built
    once per test session and revision: in-memory SQLite, or with
    ``--heroes-db-url URL`` (``$HEROES_TEST_DATABASE_URL``, ini
    ``heroes_db_url``) a schema/database of its own on that PostgreSQL or
    MySQL/MariaDB server, created under a unique name and dropped at the end.
``heroes_session``
    A :class:`~sqlalchemy.orm.Session` for one test, joined to an outer
    transaction with ``join_transaction_mode="create_savepoint"``: the code
    under test may commit and roll back as it likes, and the outer rollback
    at the end leaves nothing for the next test.
``heroes_db_url``
    The configured server URL, or ``None`` for SQLite.
``heroes_restart_identities``
    Asked for by a test whose ids must start at 1 on every backend, as on
    SQLite (the sessions restart the servers' id counters first).
``heroes_async_engine``, ``heroes_async_session``
    The same under asyncio, on the same backend (aiosqlite, asyncpg or
    aiomysql; an ``AsyncSession`` with the same savepoint isolation), when
    pytest-asyncio is installed: ``pip install 'heroes_sa[async-testing]'``
    (plus ``[asyncpg]`` or ``[aiomysql]`` on a server).  See
    :mod:`heroes_sa.testing.async_fixtures`.
``@pytest.mark.heroes_revision(REV)``
    Those fixtures at revision ``REV`` instead of head.

:func:`scratch_database` and :func:`async_scratch_database` give tests of
their own migrations an empty database on the same backend.
:func:`rolled_back_session` is ``heroes_session``'s recipe as a context
manager, for code that does not run under pytest fixtures.
:func:`record_sql` records the statements an Engine or AsyncEngine sends,
for tests that assert on SQL and round trips.

Every fixture is small and may be overridden in a ``conftest.py``.
"""

from heroes_sa.testing.databases import async_scratch_database, scratch_database
from heroes_sa.testing.fixtures import (
    heroes_db_url,
    heroes_engine,
    heroes_engine_factory,
    heroes_restart_identities,
    heroes_revision,
    heroes_session,
    rolled_back_session,
)
from heroes_sa.testing.hooks import pytest_addoption, pytest_configure, pytest_report_header
from heroes_sa.testing.recorder import RecordedSQL, RecordedStatement, record_sql

__all__ = [
    "RecordedSQL",
    "RecordedStatement",
    "async_scratch_database",
    "heroes_db_url",
    "heroes_engine",
    "heroes_engine_factory",
    "heroes_restart_identities",
    "heroes_revision",
    "heroes_session",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "record_sql",
    "rolled_back_session",
    "scratch_database",
]
