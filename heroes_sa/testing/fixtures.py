"""Fixtures of the heroes_sa plugin; each may be overridden in a conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from heroes_sa.migration import head_revision, upgrade
from heroes_sa.testing.databases import (
    DatabaseUnavailableError,
    restart_identities,
    scratch_database,
)
from heroes_sa.testing.hooks import MARKER, configured_url

EngineFactory = Callable[[str], Engine]


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
                    engine = databases.enter_context(scratch_database(heroes_db_url))
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
        return head_revision()
    if len(marker.args) != 1 or not isinstance(marker.args[0], str) or marker.kwargs:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes one revision id, got args={marker.args!r}"
            f" kwargs={marker.kwargs!r} on {request.node.nodeid}"
        )
    revision: str = marker.args[0]
    return head_revision() if revision == "head" else revision


@pytest.fixture
def heroes_engine(heroes_engine_factory: EngineFactory, heroes_revision: str) -> Engine:
    """An engine on a database migrated to this test's revision.

    Shared by every test at that revision: write to it through
    ``heroes_session``, which rolls back, not directly.
    """
    return heroes_engine_factory(heroes_revision)


@contextmanager
def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A Session on ``engine`` whose every write is undone when the block ends.

    The recipe from SQLAlchemy's "Joining a Session into an External
    Transaction": the session's commits and rollbacks act on savepoints
    inside an outer transaction that is rolled back at the end.  On a server,
    id counters are restarted first, so ids start at 1 as on SQLite.  This
    is what :func:`heroes_session` runs for each test; use it directly where
    pytest fixtures do not reach (unittest, hypothesis, a REPL).
    """
    with engine.connect() as connection:
        restart_identities(connection)
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@pytest.fixture
def heroes_session(heroes_engine: Engine) -> Iterator[Session]:
    """A Session for one test; nothing it writes outlives the test.

    Per test this costs a connection checkout, a BEGIN, a SAVEPOINT per
    commit and a ROLLBACK, far less than migrating a database per test (see
    docs/PERFORMANCE.md); see :func:`rolled_back_session`.
    """
    with rolled_back_session(heroes_engine) as session:
        yield session
