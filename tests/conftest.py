"""Shared helpers for heroes_sa's own tests.

The database fixtures come from heroes_sa's own pytest plugin (heroes_engine,
heroes_session, the heroes_revision marker), the same ones users get.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from heroes_sa.testing.databases import backend_of
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
