"""Running the same steps on heroes_sa and on SQLModel, and comparing what each did.

A :class:`Side` is one implementation of one shape of the tutorial's schema
(``one_to_many`` or ``many_to_many``): its models module, the revision its
database is built at, how it makes engines and sessions.  :class:`TransactionLog` records
the SQL an engine sends, cut into transactions by SQLAlchemy's own ``begin`` /
``commit`` / ``rollback`` connection events.  :func:`canonical` turns one
transaction into what the two sides must agree on, leaving out only what the
unit of work may order as it likes.  :func:`table_rows` reads every table.

Only what the parity tests need; nothing here is heroes_sa API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, Final

import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Connection, Engine, MetaData, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.engine import DEFAULT_SQLITE_BEGIN, SQLITE_BEGIN
from heroes_sa.testing import RecordedStatement as Statement
from heroes_sa.testing import record_sql
from tests.parity import sqlmodel_link_model, sqlmodel_many_to_many, sqlmodel_one_to_many

#: The tutorial's two pages: one team per hero, then any number.
SHAPES: Final = ("one_to_many", "many_to_many")

#: The chapter after them, "Link Model with Extra Fields": not a shape of the
#: seeds, so not in SHAPES, but run by the same machinery.
LINK_MODEL: Final = "link_model"

#: heroes_sa's models of each shape; their REVISION is the one they describe
#: (for many_to_many 0003, which adds an index to the tutorial's schema).
HEROES_MODELS: Final[Mapping[str, ModuleType]] = {
    "one_to_many": one_to_many,
    "many_to_many": many_to_many,
    LINK_MODEL: link_model,
}
#: SQLModel's classes of each shape; their REVISION is the heroes_sa revision
#: whose schema is the tutorial's (for link_model, the chapter's revision,
#: whose schema adds an index and a server default to SQLModel's).
SQLMODEL_MODELS: Final[Mapping[str, ModuleType]] = {
    "one_to_many": sqlmodel_one_to_many,
    "many_to_many": sqlmodel_many_to_many,
    LINK_MODEL: sqlmodel_link_model,
}

#: The statement heroes_sa's SQLite hook opens each transaction with.
OWN_BEGIN: Final = SQLITE_BEGIN[DEFAULT_SQLITE_BEGIN]


# --- the two implementations ------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One implementation of one shape, able to make a database and sessions."""

    name: str
    shape: str
    #: The revision of heroes_sa's history the database is built at.
    revision: str
    models: ModuleType
    metadata: MetaData
    create_engine: Callable[[str | URL], Engine]
    prepare: Callable[[Engine], None]
    #: The Session class the side's users use.
    session_class: type[Session]
    #: The same, reading every table after each commit (see :class:`SnapshotMixin`).
    snapshot_session_class: type[Session]

    def new_database(self, url: str | URL = "sqlite://") -> Engine:
        """An engine on ``url`` with this side's schema, made the side's way."""
        engine = self.create_engine(url)
        self.prepare(engine)
        return engine


#: Execution option marking a connection :func:`record` leaves out (the snapshots').
UNRECORDED: Final = "parity_unrecorded"


class SnapshotMixin:
    """Makes a Session read every table right after each successful commit."""

    snapshots: list[dict[str, list[tuple[Any, ...]]]]
    snapshot_metadata: MetaData

    def commit(self) -> None:
        """Commit, then record :func:`table_rows` on a connection of its own."""
        super().commit()  # type: ignore[misc]
        # After the commit the session holds no connection: read on a fresh one
        # (on in-memory SQLite the same database), with nothing left pending.
        bind = self.get_bind()  # type: ignore[attr-defined]
        with bind.connect().execution_options(**{UNRECORDED: True}) as connection:
            self.snapshots.append(table_rows(connection, self.snapshot_metadata))


class HeroesSnapshotSession(SnapshotMixin, Session):
    """heroes_sa's side: a plain SQLAlchemy Session."""


class SQLModelSnapshotSession(SnapshotMixin, sqlmodel.Session):
    """SQLModel's side: SQLModel's Session, as the tutorial uses it."""


def heroes_side(shape: str, revision: str | None = None) -> Side:
    """heroes_sa's ``shape``: its engine, the schema by its Alembic migrations.

    Migrated to ``revision``, by default the one the models describe.
    """
    models = HEROES_MODELS[shape]
    target: str = revision or models.REVISION
    return Side(
        name="heroes_sa",
        shape=shape,
        revision=target,
        models=models,
        metadata=models.Base.metadata,
        create_engine=heroes_sa.create_engine,
        prepare=lambda engine: heroes_sa.upgrade(engine, target),
        session_class=Session,
        snapshot_session_class=HeroesSnapshotSession,
    )


def sqlmodel_side(shape: str, *, adjusted: bool = False) -> Side:
    """SQLModel's ``shape``: its ``create_engine`` and ``create_all``, as the tutorial.

    ``adjusted`` gives SQLModel the two behaviours in which heroes_sa
    deliberately differs from it beyond SQLite's transactions, and nothing
    else: its SQLite connections enforce foreign keys, and its instances
    compare by identity (:class:`~tests.parity.sqlmodel_base.IdentityEquality`).
    """
    models = adjusted_models(shape) if adjusted else SQLMODEL_MODELS[shape]
    metadata: MetaData = models.metadata
    create_engine: Callable[[str | URL], Engine] = sqlmodel.create_engine
    if adjusted:
        create_engine = sqlmodel_engine_enforcing_foreign_keys
    return Side(
        name="sqlmodel, adjusted" if adjusted else "sqlmodel",
        shape=shape,
        revision=models.REVISION,
        models=models,
        metadata=metadata,
        create_engine=create_engine,
        prepare=metadata.create_all,
        session_class=sqlmodel.Session,
        snapshot_session_class=SQLModelSnapshotSession,
    )


@cache
def adjusted_models(shape: str) -> ModuleType:
    """The SQLModel classes of ``shape`` with identity equality, defined once."""
    define: Callable[..., ModuleType] = SQLMODEL_MODELS[shape].define
    return define(identity_equality=True)


def sqlmodel_engine_enforcing_foreign_keys(url: str | URL) -> Engine:
    """``sqlmodel.create_engine(url)`` whose SQLite connections enforce foreign keys."""
    engine = sqlmodel.create_engine(url)

    @event.listens_for(engine, "connect")
    def foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
        # Right after connecting no transaction is open, so SQLite takes the pragma.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def open_session(side: Side, engine: Engine) -> Session:
    """A snapshotting session of ``side`` on ``engine``, dumping heroes_sa's tables."""
    session = side.snapshot_session_class(engine)
    assert isinstance(session, SnapshotMixin)
    session.snapshots = []
    # The heroes_sa tables are the yardstick on both sides: the schema tests
    # prove SQLModel's create_all makes exactly these.
    session.snapshot_metadata = HEROES_MODELS[side.shape].Base.metadata
    return session


# --- reading the tables -----------------------------------------------------


def table_rows(bind: Connection | Session, metadata: MetaData) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in ``metadata``, ordered by primary key."""
    return {
        table.name: [
            tuple(row) for row in bind.execute(sa.select(table).order_by(*table.primary_key))
        ]
        for table in metadata.sorted_tables
    }


# --- recording SQL by transaction ------------------------------------------


@dataclass
class Transaction:
    """The statements one database transaction carried, and how it ended."""

    statements: list[Statement] = field(default_factory=list)
    end: str | None = None
    #: False while only statements sent ahead of SQLAlchemy's ``begin`` event
    #: are known (heroes_sa's own ``BEGIN``, from a listener that runs first).
    begun: bool = False


@dataclass
class TransactionLog:
    """The SQL an engine sends, cut into transactions; see :func:`record`."""

    transactions: list[Transaction] = field(default_factory=list)

    @property
    def current(self) -> Transaction:
        """The transaction statements go into now (opened if none was begun)."""
        if not self.transactions or self.transactions[-1].end is not None:
            self.transactions.append(Transaction())
        return self.transactions[-1]


@contextmanager
def record(engine: Engine) -> Iterator[TransactionLog]:
    """Record what ``engine`` sends, by SQLAlchemy transaction, while inside.

    The statements come from :func:`heroes_sa.testing.record_sql`; SQLAlchemy's
    ``begin`` / ``commit`` / ``rollback`` events cut them into transactions.
    """
    log = TransactionLog()
    seen = 0

    def recorded(connection: Connection) -> bool:
        return not connection.get_execution_options().get(UNRECORDED)

    def collect() -> None:
        # Statements sent since the last event belong to the transaction open now.
        nonlocal seen
        if len(sent.statements) > seen:
            log.current.statements.extend(sent.statements[seen:])
            seen = len(sent.statements)

    def on_begin(connection: Connection) -> None:
        if not recorded(connection):
            return
        collect()
        # ConnectionEvents ignores insert=True, so heroes_sa's SQLite hook
        # runs before this listener: its BEGIN has opened the transaction.
        opened = log.transactions[-1] if log.transactions else None
        if opened is not None and opened.end is None and not opened.begun:
            opened.begun = True
        else:
            log.transactions.append(Transaction(begun=True))

    def on_end(end: str) -> Callable[[Connection], None]:
        def listener(connection: Connection) -> None:
            if recorded(connection):
                collect()
                log.current.end = end

        return listener

    on_commit, on_rollback = on_end("commit"), on_end("rollback")
    with record_sql(engine, include=recorded) as sent:
        event.listen(engine, "begin", on_begin)
        event.listen(engine, "commit", on_commit)
        event.listen(engine, "rollback", on_rollback)
        try:
            yield log
        finally:
            event.remove(engine, "begin", on_begin)
            event.remove(engine, "commit", on_commit)
            event.remove(engine, "rollback", on_rollback)
            collect()


# --- what two transactions must agree on -----------------------------------

WRITES: Final = frozenset({"INSERT", "UPDATE", "DELETE"})


def freeze(value: Any) -> Any:
    """A hashable, orderable-by-repr form of a parameter set."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def statement_key(statement: Statement) -> tuple[str, Any]:
    """SQL and parameters; an executemany's parameter sets as a multiset."""
    params = freeze(statement.parameters)
    if statement.executemany and isinstance(statement.parameters, list):
        params = ("executemany", tuple(sorted(params, key=repr)))
    return statement.sql, params


def dependency_layers(metadata: MetaData) -> dict[str, int]:
    """Table -> length of its longest foreign-key path; equal layers are independent."""
    layers: dict[str, int] = {}
    for table in metadata.sorted_tables:  # referred tables come first
        referred = [layers[fk.column.table.name] for fk in table.foreign_keys]
        layers[table.name] = 1 + max(referred) if referred else 0
    return layers


def canonical(statements: Sequence[Statement], layers: Mapping[str, int]) -> list[Any]:
    """What of ``statements`` two implementations must agree on, in order.

    Consecutive writes of one verb into one table form a group, its
    statements in the order sent.  Within one flush, the unit of work puts
    tables that do not depend on each other in an order of its own choosing
    (set iteration), so a run of consecutive groups with the same verb and the
    same dependency layer is compared as a multiset.  Everything else keeps
    its order: reads, and groups of tables one of which depends on the other.
    """
    groups: list[tuple[tuple[str, str | None], list[tuple[str, Any]]]] = []
    for statement in statements:
        kind = (statement.verb, statement.table)
        if statement.verb in WRITES and groups and groups[-1][0] == kind:
            groups[-1][1].append(statement_key(statement))
        else:
            groups.append((kind, [statement_key(statement)]))

    def run_key(kind: tuple[str, str | None]) -> tuple[str, int] | None:
        verb, table = kind
        if verb not in WRITES or table is None:
            return None
        return verb, layers[table]

    result: list[Any] = []
    run: list[tuple[Any, ...]] = []
    run_of: tuple[str, int] | None = None
    for kind, keys in groups:
        key = run_key(kind)
        if run and (key is None or key != run_of):
            result.extend(sorted(run, key=repr))
            run = []
        if key is None:
            result.append((kind, tuple(keys)))
        else:
            run.append((kind, tuple(keys)))
            run_of = key
    result.extend(sorted(run, key=repr))
    return result


def without_own_begin(log: TransactionLog) -> list[Transaction]:
    """heroes_sa's transactions with the ``BEGIN`` its SQLite hook sends removed.

    Checks that each transaction starts with exactly that one ``BEGIN``
    (``BEGIN IMMEDIATE``, heroes_sa's default): it is the only statement
    heroes_sa adds on SQLite, where Python's driver would otherwise open
    transactions on its own, and only before writes.
    """
    stripped = []
    for transaction in log.transactions:
        sqls = [s.sql for s in transaction.statements]
        assert sqls[:1] == [OWN_BEGIN], f"a heroes_sa transaction without its BEGIN: {sqls}"
        assert OWN_BEGIN not in sqls[1:], f"a second BEGIN inside one transaction: {sqls}"
        stripped.append(Transaction(transaction.statements[1:], transaction.end, begun=True))
    return stripped
