"""Fixtures of the parity suite: fresh databases on the backend under test.

The backend is the one the whole run uses: in-memory SQLite, or the
PostgreSQL/MariaDB server named by ``--heroes-db-url`` /
``$HEROES_TEST_DATABASE_URL`` (heroes_sa's plugin, fixture ``heroes_db_url``).
On a server every database the suite compares is a namespace of its own,
made by :func:`heroes_sa.testing.scratch_database` and dropped after the
test, so the two implementations each start from nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL

from heroes_sa.testing import scratch_database

#: Takes how to build an engine (and schema) on a URL; returns that engine on
#: a new, empty database.
DatabaseFactory = Callable[[Callable[[URL], Engine]], Engine]


@pytest.fixture
def new_database(heroes_db_url: URL | None) -> Iterator[DatabaseFactory]:
    """Builds an engine on a new, empty database of the backend under test at each call.

    On SQLite a private in-memory database; on a server a scratch namespace.
    When the test ends each engine is disposed, then its namespace dropped.
    """
    with ExitStack() as stack:

        def make(build: Callable[[URL], Engine]) -> Engine:
            if heroes_db_url is None:
                url = make_url("sqlite://")
            else:
                # Only its URL is used: each side connects its own way.
                url = stack.enter_context(scratch_database(heroes_db_url)).url
            engine = build(url)
            stack.callback(engine.dispose)
            return engine

        yield make
