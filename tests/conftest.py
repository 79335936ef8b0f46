"""Shared helpers for heroes_sa's own tests.

The database fixtures come from heroes_sa's own pytest plugin (heroes_engine,
heroes_session, the heroes_revision marker), the same ones users get.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event

from tests.sql_log import SQLLog, Statement

pytest_plugins = ["pytester"]


@pytest.fixture
def sql_log(heroes_engine: Engine) -> Iterator[SQLLog]:
    """Record every statement sent through ``heroes_engine`` during the test."""
    log = SQLLog()

    def record(
        _conn: Connection,
        _cursor: Any,
        statement: str,
        parameters: Any,
        _context: Any,
        executemany: bool,
    ) -> None:
        log.statements.append(Statement(" ".join(statement.split()), parameters, executemany))

    event.listen(heroes_engine, "before_cursor_execute", record)
    yield log
    event.remove(heroes_engine, "before_cursor_execute", record)
