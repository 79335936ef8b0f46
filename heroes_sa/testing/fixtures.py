"""Fixtures of the heroes_sa plugin; each may be overridden in a conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import cache
from typing import Final

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from heroes_sa.migration import head_revision, upgrade
from heroes_sa.testing import databases
from heroes_sa.testing.databases import DatabaseUnavailableError, scratch_database
from heroes_sa.testing.hooks import MARKER, configured_url

EngineFactory = Callable[[str], Engine]

#: The fixture a test asks for to have its ids start at 1 on every backend.
RESTART_IDENTITIES: Final = "heroes_restart_identities"

#: The head revision, read from the migration scripts once per process: every
#: unmarked test needs it, and reading the history loads every script.
_head: Callable[[], str] = cache(head_revision)


@pytest.fixture(scope="session")
def heroes_db_url(pytestconfig: pytest.Config) -> URL | None:
    """The database server the fixtures run on, or ``None`` for in-memory SQLite.

    From ``--heroes-db-url``, else ``$HEROES_TEST_DATABASE_URL``, else the
    ``heroes_db_url`` ini setting.  Override this fixture to choose the server
    some other way (a container started for the run, say).
    """
    return configured_url(pytestconfig)


@pytest.fixture(scope="session")
def heroes_engine_factory(heroes_db_url: URL | None) -> Iterator[EngineFactory]:
    """Return migrated engines by revision, each built once per test session.

    Each revision gets a database of its own (see
    :func:`~heroes_sa.testing.databases.scratch_database`): in-memory SQLite,
    or a schema/database on the ``heroes_db_url`` server created under a
    unique name.  It is migrated through Alembic the first time a test asks
    for it and removed when the session ends.  Override this fixture to hand
    out engines for another database.
    """
    with ExitStack() as databases:
        engines: dict[str, Engine] = {}

        def engine_at(revision: str) -> Engine:
            if revision not in engines:
                try:
                    # No ping per checkout: it is a round trip per test, and an
                    # engine that lives for one test run has no stale connections.
                    engine = databases.enter_context(
                        scratch_database(heroes_db_url, pool_pre_ping=False)
                    )
                except DatabaseUnavailableError as error:
                    pytest.fail(str(error), pytrace=False)
                upgrade(engine, revision)
                engines[revision] = engine
            return engines[revision]

        yield engine_at


@pytest.fixture
def heroes_revision(request: pytest.FixtureRequest) -> str:
    """The revision this test runs at: its ``heroes_revision`` marker, else head.

    Override this fixture to move a whole module or directory to a revision.
    """
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return _head()
    if len(marker.args) != 1 or not isinstance(marker.args[0], str) or marker.kwargs:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes one revision id, got args={marker.args!r}"
            f" kwargs={marker.kwargs!r} on {request.node.nodeid}"
        )
    revision: str = marker.args[0]
    return _head() if revision == "head" else revision


@pytest.fixture
def heroes_engine(heroes_engine_factory: EngineFactory, heroes_revision: str) -> Engine:
    """An engine on a database migrated to this test's revision.

    Shared by every test at that revision: write to it through
    ``heroes_session``, which rolls back, not directly.
    """
    return heroes_engine_factory(heroes_revision)


@contextmanager
def rolled_back_session(engine: Engine, *, restart_identities: bool = False) -> Iterator[Session]:
    """A Session on ``engine`` whose every write is undone when the block ends.

    The recipe from SQLAlchemy's "Joining a Session into an External
    Transaction": the session's commits and rollbacks act on savepoints
    inside an outer transaction that is rolled back at the end.  This is
    what :func:`heroes_session` runs for each test; use it directly where
    pytest fixtures do not reach (unittest, hypothesis, a REPL).

    ``restart_identities=True`` first lets the next insert into each table
    get id 1 again on PostgreSQL and MySQL/MariaDB, as it does on SQLite
    (see :func:`~heroes_sa.testing.databases.restart_identities`).
    """
    with engine.connect() as connection:
        if restart_identities:
            databases.restart_identities(connection)
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def heroes_restart_identities() -> None:
    """Ask for this to have ids start at 1 in this test on every backend, as on SQLite.

    ``heroes_session`` and ``heroes_async_session`` look for it among the
    test's fixtures and, when it is there, restart the id counters before
    the test's transaction begins (whatever order the fixtures are listed
    in).  SQLite hands a rolled-back row's id out again by itself; on
    PostgreSQL a sequence and on MySQL/MariaDB an AUTO_INCREMENT counter do
    not, so without this a test sees ids that depend on the tests before it.

    Not done for every test because on MySQL/MariaDB the restart is DDL
    (``ALTER TABLE ... AUTO_INCREMENT``), a few milliseconds per table and
    an implicit commit; assert on ``hero.id`` rather than on ``1`` where you
    can.  Use ``@pytest.mark.usefixtures("heroes_restart_identities")`` or an
    autouse fixture to turn it on for a module or a directory.
    """


@pytest.fixture
def heroes_session(heroes_engine: Engine, request: pytest.FixtureRequest) -> Iterator[Session]:
    """A Session for one test; nothing it writes outlives the test.

    Per test this costs a connection checkout, a BEGIN, a SAVEPOINT per
    commit and a ROLLBACK, far less than migrating a database per test (see
    docs/PERFORMANCE.md and ``bench/fixture_cost.py``); see
    :func:`rolled_back_session` and :func:`heroes_restart_identities`.
    """
    restart = RESTART_IDENTITIES in request.fixturenames
    with rolled_back_session(heroes_engine, restart_identities=restart) as session:
        yield session
