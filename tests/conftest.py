"""Shared helpers for heroes_sa's own tests.

The database fixtures come from heroes_sa's own pytest plugin (heroes_engine,
heroes_session, the heroes_revision marker), the same ones users get.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from heroes_sa.testing import RecordedSQL, record_sql
from heroes_sa.testing.databases import DatabaseUnavailableError, backend_of, scratch_database
from heroes_sa.testing.hooks import configured_url
from tests.migration_helpers import empty_database_url

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
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose inner suites run in file order, as this suite does.

    pytest-randomly is installed (the downstream tests shuffle with it) and
    would otherwise shuffle every inner suite; a test that wants it passes
    ``-p randomly``.
    """
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    return pytester


@pytest.fixture
def sql_log(heroes_engine: Engine) -> Iterator[RecordedSQL]:
    """Every statement sent through ``heroes_engine`` during the test, in SQLite's form.

    So one assertion on SQL and parameters holds on every backend.
    """
    with record_sql(heroes_engine, qmark=True) as recorded:
        yield recorded


@pytest.fixture
def engine(heroes_db_url: URL | None) -> Iterator[Engine]:
    """A new, empty database on the backend under test, removed after the test.

    In-memory SQLite, or a namespace of its own on the ``--heroes-db-url``
    server: for tests that migrate, or need a database no other test shares.
    """
    with scratch_database(heroes_db_url) as engine:
        yield engine


@pytest.fixture
def db_url(heroes_db_url: URL | None, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the backend under test, as a URL to give ``--db``.

    A SQLite file not created yet, or a namespace of its own on the server.
    """
    with empty_database_url(heroes_db_url, tmp_path) as url:
        yield url


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


@pytest.fixture(params=["sqlite", "server"])
def async_backend(request: pytest.FixtureRequest, heroes_db_url: URL | None) -> URL | None:
    """Where an async test runs: in-memory SQLite (None), then the server under test.

    The server's URL is the one the sync fixtures use; the async code reaches
    it through the backend's async driver.  Skipped, saying why, on a run
    given no server.
    """
    if request.param == "sqlite":
        return None
    if heroes_db_url is None or backend_of(heroes_db_url) == "sqlite":
        pytest.skip(
            "needs a database server for its async driver: give one with --heroes-db-url URL"
            " (docs/BACKENDS.md)"
        )
    return heroes_db_url
