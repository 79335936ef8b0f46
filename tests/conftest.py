"""Shared helpers for heroes_sa's own tests.

The database fixtures come from heroes_sa's own pytest plugin (heroes_engine,
heroes_session, the heroes_revision marker), the same ones users get.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL

from heroes_sa.testing.databases import DatabaseUnavailableError, backend_of, scratch_database
from heroes_sa.testing.hooks import configured_url
from tests.sql_log import SQLLog

pytest_plugins = ["pytester"]

BACKENDS_MARKER = "backends"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{BACKENDS_MARKER}(*names, reason): run only when the database under test is one of"
        " names (sqlite, postgresql, mysql); reason says what the others lack",
    )


def backend_under_test(config: pytest.Config) -> str:
    """sqlite, postgresql or mysql: where this run's database fixtures live."""
    url = configured_url(config)
    return "sqlite" if url is None else backend_of(url)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked for other backends, saying why they cannot run here."""
    backend = backend_under_test(config)
    for item in items:
        marker = item.get_closest_marker(BACKENDS_MARKER)
        if marker is not None and backend not in marker.args:
            item.add_marker(pytest.mark.skip(reason=f"{backend}: {marker.kwargs['reason']}"))


@pytest.fixture
def sql_log(heroes_engine: Engine) -> Iterator[SQLLog]:
    """Record every statement sent through ``heroes_engine`` during the test."""
    log = SQLLog()

    def record(
        _conn: Connection,
        _cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        log.record(statement, parameters, executemany, context)

    event.listen(heroes_engine, "before_cursor_execute", record)
    yield log
    event.remove(heroes_engine, "before_cursor_execute", record)


@pytest.fixture
def engine(heroes_db_url: URL | None) -> Iterator[Engine]:
    """A new, empty database on the backend under test, removed after the test.

    In-memory SQLite, or a namespace of its own on the ``--heroes-db-url``
    server: for tests that migrate, or need a database no other test shares.
    """
    with scratch_database(heroes_db_url) as engine:
        yield engine


@pytest.fixture(scope="session")
def server_url(heroes_db_url: URL | None) -> URL:
    """The database server under test; skips the test when there is none to reach.

    For the tests about server behaviour itself (the plugin's namespaces, the
    demo over a real connection): they need a server URL given the way the
    whole suite gets one, and a server answering at it.
    """
    if heroes_db_url is None or backend_of(heroes_db_url) == "sqlite":
        pytest.skip(
            "needs a database server: give one with --heroes-db-url URL or"
            " HEROES_TEST_DATABASE_URL (docs/BACKENDS.md)"
        )
    try:
        with scratch_database(heroes_db_url):
            pass
    except DatabaseUnavailableError as error:
        pytest.skip(str(error))
    return heroes_db_url
