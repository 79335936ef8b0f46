"""The comparison itself: what canonical() forgives and what it does not.

The parity tests are only as strict as this normalisation; these tests pin
down that it forgives the unit of work's free choices and nothing else.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sqlmodel", reason="the parity suite needs the 'parity' extra")

from heroes_sa import many_to_many, one_to_many
from heroes_sa.testing import RecordedStatement as Statement
from tests.parity.harness import (
    OWN_BEGIN,
    Transaction,
    TransactionLog,
    canonical,
    dependency_layers,
    without_own_begin,
)

M2M = dependency_layers(many_to_many.Base.metadata)
O2M = dependency_layers(one_to_many.Base.metadata)

HERO = Statement("INSERT INTO hero (name) VALUES (?)", ("Deadpond",), False)
HERO_2 = Statement("INSERT INTO hero (name) VALUES (?)", ("Rusty-Man",), False)
TEAM = Statement("INSERT INTO team (name) VALUES (?)", ("Preventers",), False)
LINKS = Statement("INSERT INTO heroteamlink VALUES (?, ?)", [(1, 1), (2, 1)], True)
LINKS_SWAPPED = Statement("INSERT INTO heroteamlink VALUES (?, ?)", [(2, 1), (1, 1)], True)
READ = Statement("SELECT hero.id FROM hero WHERE hero.id = ?", (1,), False)


def test_layers_follow_foreign_keys() -> None:
    assert M2M == {"hero": 0, "team": 0, "heroteamlink": 1}
    assert O2M == {"team": 0, "hero": 1}


def test_independent_tables_may_come_in_either_order() -> None:
    assert canonical([HERO, TEAM, LINKS], M2M) == canonical([TEAM, HERO, LINKS], M2M)


def test_a_table_and_the_one_it_depends_on_may_not() -> None:
    assert canonical([TEAM, HERO], O2M) != canonical([HERO, TEAM], O2M)
    assert canonical([HERO, TEAM, LINKS], M2M) != canonical([LINKS, HERO, TEAM], M2M)


def test_rows_of_one_executemany_may_come_in_either_order() -> None:
    assert canonical([LINKS], M2M) == canonical([LINKS_SWAPPED], M2M)


def test_separate_inserts_into_one_table_keep_their_order() -> None:
    assert canonical([HERO, HERO_2], M2M) != canonical([HERO_2, HERO], M2M)


def test_parameters_and_reads_count() -> None:
    other_team = Statement(TEAM.sql, ("Z-Force",), False)
    assert canonical([TEAM], M2M) != canonical([other_team], M2M)
    assert canonical([READ, HERO], M2M) != canonical([HERO, READ], M2M)
    assert canonical([HERO, READ, TEAM], M2M) != canonical([TEAM, READ, HERO], M2M)
    assert canonical([HERO], M2M) != canonical([HERO, HERO], M2M)


def test_heroes_sa_transactions_must_each_start_with_one_begin() -> None:
    begin = Statement(OWN_BEGIN, (), False)
    good = TransactionLog([Transaction([begin, HERO], "commit", begun=True)])
    assert [t.statements for t in without_own_begin(good)] == [[HERO]]
    for statements in ([HERO], [begin, HERO, begin]):
        bad = TransactionLog([Transaction(statements, "commit", begun=True)])
        with pytest.raises(AssertionError, match="BEGIN"):
            without_own_begin(bad)
