"""In-memory databases for the benchmark, copied from templates so setup stays out of timings.

Every database is an in-memory SQLite database: no disk, so on a shared machine
the figures measure CPU work, not the neighbours' I/O.  A template is built
once per size (schema by heroes_sa's own migrations, rows by ``sqlite3``
executemany); each measurement gets a fresh copy through SQLite's backup API,
which takes milliseconds even at 100k heroes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

import sqlmodel
from sqlalchemy import Engine
from sqlalchemy.pool import StaticPool

import heroes_sa
from bench import raw
from bench.data import Dataset
from heroes_sa import many_to_many, one_to_many


def connect(*, heroes_sa_mode: bool = True) -> sqlite3.Connection:
    """A new empty in-memory database.

    ``heroes_sa_mode`` leaves it as heroes_sa's engine would (no implicit
    transactions, foreign keys on); otherwise it is a default ``sqlite3``
    connection, as a plain SQLAlchemy or SQLModel engine has it.
    """
    if heroes_sa_mode:
        connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA foreign_keys=ON")
        return connection
    return sqlite3.connect(":memory:", check_same_thread=False)


def copy_of(template: sqlite3.Connection, *, heroes_sa_mode: bool = True) -> sqlite3.Connection:
    """A new in-memory database holding what ``template`` holds."""
    connection = connect(heroes_sa_mode=heroes_sa_mode)
    template.backup(connection)
    return connection


def heroes_sa_engine(connection: sqlite3.Connection) -> Engine:
    """A heroes_sa engine on ``connection`` (its hooks run on it as on any connection)."""
    return heroes_sa.create_engine("sqlite://", creator=lambda: connection, poolclass=StaticPool)


def sqlmodel_engine(connection: sqlite3.Connection) -> Engine:
    """A SQLModel engine on ``connection``, as ``sqlmodel.create_engine`` makes them."""
    return sqlmodel.create_engine("sqlite://", creator=lambda: connection, poolclass=StaticPool)


def migrated(revision: str) -> sqlite3.Connection:
    """An empty database migrated to ``revision`` by heroes_sa."""
    connection = connect()
    heroes_sa.upgrade(heroes_sa_engine(connection), revision)
    return connection


@dataclass
class Templates:
    """The template databases for one data set, each built on first use.

    Also hands out databases that several samples share (reads, fixtures),
    each a copy of a template made once; :meth:`close` disposes them all.
    """

    data: Dataset
    _engines: dict[str, Engine] = field(default_factory=dict)
    _connections: dict[str, sqlite3.Connection] = field(default_factory=dict)

    @cached_property
    def empty(self) -> sqlite3.Connection:
        """Head schema, no rows."""
        return migrated(many_to_many.REVISION)

    @cached_property
    def loaded(self) -> sqlite3.Connection:
        """Head schema holding the data set."""
        connection = copy_of(self.empty)
        raw.load(connection, self.data)
        return connection

    @cached_property
    def loaded_one_to_many(self) -> sqlite3.Connection:
        """Revision 0001's schema holding the data set, one team per hero."""
        connection = migrated(one_to_many.REVISION)
        raw.load_one_to_many(connection, self.data)
        return connection

    def shared_connection(self, key: str, template: sqlite3.Connection) -> sqlite3.Connection:
        """The ``sqlite3`` connection called ``key``, a copy of ``template`` made once."""
        if key not in self._connections:
            self._connections[key] = copy_of(template)
        return self._connections[key]

    def shared_engine(
        self, key: str, template: sqlite3.Connection, *, sqlmodel_peer: bool = False
    ) -> Engine:
        """The engine called ``key``, on a copy of ``template`` made once.

        A heroes_sa engine, or with ``sqlmodel_peer`` a SQLModel one on a
        connection set up as SQLModel's users have it.
        """
        if key not in self._engines:
            connection = copy_of(template, heroes_sa_mode=not sqlmodel_peer)
            self._engines[key] = (
                sqlmodel_engine(connection) if sqlmodel_peer else heroes_sa_engine(connection)
            )
        return self._engines[key]

    def close(self) -> None:
        """Dispose every shared database and close the templates."""
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()
        for name in ("empty", "loaded", "loaded_one_to_many"):
            template = self.__dict__.pop(name, None)
            if template is not None:
                template.close()


#: Row counts, to check after a timed run that the work was really done.
_COUNTS: Final = {
    "hero": "SELECT count(*) FROM hero",
    "team": "SELECT count(*) FROM team",
    "heroteamlink": "SELECT count(*) FROM heroteamlink",
}


def count(database: sqlite3.Connection | Engine, table: str) -> int:
    """Rows in ``table`` of ``database``."""
    if isinstance(database, Engine):
        with database.connect() as connection:
            return int(connection.exec_driver_sql(_COUNTS[table]).scalar_one())
    return int(database.execute(_COUNTS[table]).fetchone()[0])
