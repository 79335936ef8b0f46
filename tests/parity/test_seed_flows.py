"""Parity of behaviour: the tutorial's programs, run on heroes_sa and on SQLModel.

Each flow of :mod:`heroes_sa.demo` (the two seed pages' programs, and the
chapter "Link Model with Extra Fields"), the package's own code on its own
models over a migrated database, is compared with the same program from
tests/parity/programs.py run on the SQLModel classes over ``create_all``.
After every commit every table holds the same rows, each transaction sent
the same statements with the same parameters, and the same objects are
printed.
"""

from __future__ import annotations

import ast
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, TextIO

import pytest

pytest.importorskip("sqlmodel", reason="the parity suite needs the 'parity' extra")

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from heroes_sa import link_model
from heroes_sa.demo import DEMOS
from tests.parity.conftest import DatabaseFactory
from tests.parity.harness import (
    LINK_MODEL,
    SHAPES,
    Side,
    SnapshotMixin,
    Transaction,
    canonical,
    dependency_layers,
    heroes_side,
    open_session,
    record,
    sqlmodel_side,
    without_own_begin,
)
from tests.parity.programs import PROGRAMS

Flow = Callable[[Session, TextIO], None]

#: heroes_sa's demo of each shape: the package code under test.
DEMO_OF: Final[Mapping[str, str]] = {
    "one_to_many": "one-to-many",
    "many_to_many": "many-to-many",
    LINK_MODEL: "link-model",
}

#: How each flow's transactions end: one per commit, then the read-only
#: transaction the closing ``with Session`` rolls back (the chapter's program
#: closes one session in the middle too).
ENDINGS = {
    "one_to_many": ["commit"] * 4 + ["rollback"],
    "many_to_many": ["commit", "rollback"],
    LINK_MODEL: ["commit", "rollback", "commit", "commit", "rollback"],
}

#: Heroes in the database at the end of each flow.
HEROES_AT_END = {"one_to_many": 8, "many_to_many": 3, LINK_MODEL: 3}


@dataclass
class Run:
    """What one side did while running one flow."""

    engine: Engine
    transactions: list[Transaction]
    snapshots: list[dict[str, list[tuple[Any, ...]]]]
    output: str


def demo_flow(shape: str) -> Flow:
    """heroes_sa's demo flow of ``shape``, as ``heroes-sa demo`` runs it."""
    return DEMOS[DEMO_OF[shape]].flow


def program(side: Side) -> Flow:
    """The tutorial's program of ``side``'s shape, on ``side``'s models (programs.py)."""
    run = PROGRAMS[side.shape]
    return lambda session, out: run(session, out, side.models)


def run_flow(side: Side, new_database: DatabaseFactory, flow: Flow) -> Run:
    """Run ``flow`` on a new database of ``side``'s making, in a session of ``side``'s."""
    engine = new_database(side.new_database)
    out = io.StringIO()
    with record(engine) as log, open_session(side, engine) as session:
        flow(session, out)
    assert isinstance(session, SnapshotMixin)
    transactions = log.transactions
    if side.name == "heroes_sa" and engine.dialect.name == "sqlite":
        transactions = without_own_begin(log)
    return Run(engine, transactions, session.snapshots, out.getvalue())


@pytest.fixture(params=[*SHAPES, LINK_MODEL])
def shape(request: pytest.FixtureRequest) -> str:
    """The schema's shape, and so the tutorial program, under test."""
    shape: str = request.param
    return shape


@pytest.fixture
def runs(shape: str, new_database: DatabaseFactory) -> tuple[Run, Run]:
    """heroes_sa's demo flow of ``shape``, and the tutorial's program run on SQLModel."""
    heroes, sqlmodel = heroes_side(shape), sqlmodel_side(shape)
    assert heroes.revision == DEMOS[DEMO_OF[shape]].revision, "the demo's own revision"
    return (
        run_flow(heroes, new_database, demo_flow(shape)),
        run_flow(sqlmodel, new_database, program(sqlmodel)),
    )


def test_after_every_commit_every_table_holds_the_same_rows(
    shape: str, runs: tuple[Run, Run]
) -> None:
    heroes, sqlmodel = runs
    assert len(heroes.snapshots) == ENDINGS[shape].count("commit")
    assert heroes.snapshots == sqlmodel.snapshots
    assert len(heroes.snapshots[-1]["hero"]) == HEROES_AT_END[shape]


def test_every_transaction_sends_the_same_statements_and_parameters(
    shape: str, runs: tuple[Run, Run]
) -> None:
    heroes, sqlmodel = runs
    layers = dependency_layers(heroes_side(shape).metadata)
    assert [t.end for t in heroes.transactions] == ENDINGS[shape]
    assert [t.end for t in sqlmodel.transactions] == ENDINGS[shape]
    for ours, theirs in zip(heroes.transactions, sqlmodel.transactions, strict=True):
        assert canonical(ours.statements, layers) == canonical(theirs.statements, layers)
    # Not two empty logs: every commit wrote something.
    for transaction in (t for t in heroes.transactions if t.end == "commit"):
        assert any(s.verb in {"INSERT", "UPDATE"} for s in transaction.statements)


@pytest.mark.backends("sqlite", reason="BEGIN is sent by heroes_sa's SQLite hook only")
def test_sqlmodel_sends_no_begin_of_its_own_on_sqlite(runs: tuple[Run, Run]) -> None:
    """The one statement heroes_sa adds: ``BEGIN`` (stripped and checked by run_flow).

    Python's sqlite3 driver, as SQLModel uses it, opens a transaction by
    itself, and only before a write: the tutorial's refreshes and lazy loads
    run outside any transaction.  heroes_sa's engine sends ``BEGIN`` when
    SQLAlchemy begins, so every statement runs inside the transaction
    SQLAlchemy thinks it is in.
    """
    _heroes, sqlmodel = runs
    sent = [s.sql for t in sqlmodel.transactions for s in t.statements]
    assert "BEGIN" not in sent
    assert sent, "SQLModel's side sent something"


OBJECT = re.compile(
    r"(?P<open>\b[A-Z]\w*\()"
    r"|(?P<key>\w+)=(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|None|True|False|-?\d+)"
    r"|(?P<close>\))"
)


def printed_objects(line: str) -> tuple[str, list[tuple[str | None, dict[str, Any]]], str]:
    """``'Label: <objects> <tail>'`` -> label, each object's class name (if shown) and fields, tail.

    The tail is what follows the last object: ``]`` after a list, ``is
    training: False`` after a link's hero or team.
    """
    label, _, rest = line.partition(": ")
    objects: list[tuple[str | None, dict[str, Any]]] = []
    inside = False
    tail = rest
    for match in OBJECT.finditer(rest):
        tail = rest[match.end() :]
        if match["open"]:
            objects.append((match["open"][:-1], {}))
            inside = True
        elif match["close"]:
            inside = False
        else:
            if not inside and (not objects or objects[-1][0] is not None):
                objects.append((None, {}))
                inside = True
            objects[-1][1][match["key"]] = ast.literal_eval(match["value"])
    return label, objects, tail


def test_printed_objects_are_equal_and_only_their_repr_differs(
    shape: str, runs: tuple[Run, Run]
) -> None:
    """A deliberate difference: how a model prints.

    heroes_sa prints ``Hero(id=1, name='Deadpond', ...)``: class name, table
    column order, nothing loaded to print it.  SQLModel's ``str()`` is
    Pydantic's ``name='Deadpond' id=1 ...`` with no class name, in the order
    the instance's attributes happened to be loaded.  The fields and values
    printed are the same.
    """
    heroes, sqlmodel = runs
    models = heroes_side(shape).models
    ours, theirs = heroes.output.splitlines(), sqlmodel.output.splitlines()
    assert len(ours) == len(theirs) > 0
    for our_line, their_line in zip(ours, theirs, strict=True):
        our_label, our_objects, our_tail = printed_objects(our_line)
        their_label, their_objects, their_tail = printed_objects(their_line)
        assert our_label == their_label
        assert [fields for _, fields in our_objects] == [fields for _, fields in their_objects]
        assert our_tail == their_tail
        assert our_objects, our_line
        for class_name, fields in our_objects:
            assert class_name in {"Hero", "Team", "HeroTeamLink"}
            table = getattr(models, class_name).__table__
            assert list(fields) == [c.key for c in table.columns], "heroes_sa: column order"
        if not our_line.rstrip().endswith("]"):
            assert their_objects[0][0] is None, "SQLModel's str() shows no class name"
            assert our_line != their_line


def test_the_many_to_many_program_sends_the_same_sql_on_the_head_models(
    new_database: DatabaseFactory,
) -> None:
    """Revision 0004's models keep ``Hero.teams`` and ``Team.heroes`` writable.

    The seed program of the many-to-many page, run on :mod:`heroes_sa.link_model`
    over a database at head, writes the same rows with the same statements as
    on SQLModel's many-to-many classes, and prints what heroes_sa's demo
    prints on the 0003 models: the ``heroteamlink`` rows ``Hero.teams``
    inserts name only the two keys, and get ``is_training`` from its server
    default.
    """
    at_head = replace(heroes_side(LINK_MODEL), shape="many_to_many")
    on_sqlmodel = sqlmodel_side("many_to_many")
    heroes = run_flow(at_head, new_database, program(at_head))
    sqlmodel = run_flow(on_sqlmodel, new_database, program(on_sqlmodel))
    at_0003 = run_flow(heroes_side("many_to_many"), new_database, demo_flow("many_to_many"))

    assert heroes.snapshots == sqlmodel.snapshots
    layers = dependency_layers(at_head.metadata)
    for ours, theirs in zip(heroes.transactions, sqlmodel.transactions, strict=True):
        assert canonical(ours.statements, layers) == canonical(theirs.statements, layers)
    assert heroes.output == at_0003.output
    link_inserts = [s.sql for t in heroes.transactions for s in t.statements if s.verb == "INSERT"]
    # Only the two keys, in each backend's placeholder style.
    assert any(
        re.fullmatch(r"INSERT INTO heroteamlink \(team_id, hero_id\) VALUES \(\S+, \S+\)", sql)
        for sql in link_inserts
    ), link_inserts
    with heroes.engine.connect() as connection:
        flags = connection.scalars(select(link_model.HeroTeamLink.is_training)).all()
    assert flags == [False] * 4
