"""Which database server the parity suite may use, and scratch databases on it.

Kept apart from :mod:`tests.parity.harness` so that conftest.py imports
nothing from the optional ``parity`` extra.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import sqlalchemy as sa
from sqlalchemy import make_url
from sqlalchemy.engine import URL

#: Environment variable naming a PostgreSQL or MariaDB server, the same one
#: heroes_sa's pytest plugin reads (``--heroes-db-url`` on the command line).
SERVER_URL_ENV_VAR: Final = "HEROES_TEST_DATABASE_URL"


def server_url(option: str | None) -> URL | None:
    """The server named by the command-line option, else by the environment."""
    url = option or os.environ.get(SERVER_URL_ENV_VAR)
    return make_url(url) if url else None


@contextmanager
def scratch_database(server: URL) -> Iterator[URL]:
    """A new, empty database on ``server`` under a random name, dropped afterwards."""
    name = f"heroes_parity_{secrets.token_hex(6)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    quoted = admin.dialect.identifier_preparer.quote_identifier(name)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {quoted}")
        try:
            yield server.set(database=name)
        finally:
            drop = f"DROP DATABASE {quoted}"
            if admin.dialect.name == "postgresql":
                # Ends any session a failed test left open on it.
                drop += " WITH (FORCE)"
            with admin.connect() as connection:
                connection.exec_driver_sql(drop)
    finally:
        admin.dispose()
