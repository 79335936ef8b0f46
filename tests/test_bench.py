"""The benchmark keeps working: bench/run.py --quick, and its peers doing the same work.

Not a timed test: nothing here asserts a duration or a ratio.  What is asserted
is that every implementation runs, that the peers a ratio compares really do
the same job (same rows, same schema, same reads), and that the goals are
judged from the figures correctly.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlmodel", reason="the bench extra is not installed")
pytest.importorskip("matplotlib", reason="the bench extra is not installed")

import sqlmodel
from sqlalchemy.orm import Session

import heroes_sa
from bench import instructions, phases, plain_models, raw, run
from bench.data import Dataset
from bench.databases import Templates, copy_of, heroes_sa_engine
from bench.report import Results, evaluate_goals
from bench.workloads import (
    WORKLOADS,
    Sample,
    Settings,
    bulk_inputs,
    create_through_relationships,
    read_lazy,
    read_selectin,
    read_sqlmodel,
    workload,
)
from heroes_sa.bulk import bulk_create
from heroes_sa.many_to_many import Hero, Team
from tests.parity import sqlmodel_many_to_many as sm

TABLES = ("team", "hero", "heroteamlink")


def dump(connection: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables, ordered."""
    queries = {
        "team": "SELECT * FROM team ORDER BY id",
        "hero": "SELECT * FROM hero ORDER BY id",
        "heroteamlink": "SELECT * FROM heroteamlink ORDER BY team_id, hero_id",
    }
    return {table: connection.execute(queries[table]).fetchall() for table in TABLES}


def schema(connection: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """sqlite_master without whitespace differences."""
    rows = connection.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
    return [(kind, name, re.sub(r"\s+", "", sql or "")) for kind, name, sql in rows]


@pytest.fixture
def templates() -> Any:
    templates = Templates(Dataset(60))
    yield templates
    templates.close()


def test_quick_run_writes_the_table_results_and_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main(["--quick", "--out", str(tmp_path)]) == 0

    printed = capsys.readouterr().out
    for work in WORKLOADS:
        assert work.title in printed
    assert "Goals" in printed
    document = json.loads((tmp_path / "results.json").read_text())
    measured = {(r["workload"], r["implementation"], r["size"]) for r in document["results"]}
    expected = {
        (work.key, implementation.name, size)
        for work in WORKLOADS
        for implementation in work.implementations
        for size in run.QUICK_SIZES
    }
    assert measured == expected
    for result in document["results"]:
        assert len(result["cpu_seconds"]) == 1
        assert result["ratio_to_reference"] is not None
    assert {goal["id"] for goal in document["goals"]} == {
        "1", "2", "3a", "3b", "3c", "4a", "4b", "5a", "5b", "6"
    }  # fmt: skip
    assert document["machine"]["cores"] >= 1
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_every_loader_writes_the_same_rows(templates: Templates) -> None:
    """Workloads 1 and 2 compare like with like: ORM, SQLModel, bulk_create, raw."""
    data = templates.data
    databases = {}

    connection = copy_of(templates.empty)
    with Session(heroes_sa_engine(connection)) as session:
        create_through_relationships(session, data, Hero, Team)
    databases["heroes_sa"] = connection

    connection = copy_of(templates.empty)
    with Session(heroes_sa_engine(connection)) as session:
        create_through_relationships(
            session, data, plain_models.PLAIN.Hero, plain_models.PLAIN.Team
        )
    databases["no validation"] = connection

    connection = copy_of(templates.empty)
    models = plain_models.EMPTY_LISTENERS
    with Session(heroes_sa_engine(connection)) as session:
        create_through_relationships(session, data, models.Hero, models.Team)
    databases["empty listeners"] = connection

    connection = copy_of(templates.empty, heroes_sa_mode=False)
    engine = sqlmodel.create_engine("sqlite://", creator=lambda: connection)
    with sqlmodel.Session(engine) as sm_session:
        create_through_relationships(sm_session, data, sm.Hero, sm.Team)
    databases["SQLModel"] = connection

    connection = copy_of(templates.empty)
    heroes, teams = bulk_inputs(templates)
    with Session(heroes_sa_engine(connection)) as session:
        bulk_create(session, heroes=heroes, teams=teams, memberships=data.memberships)
        session.commit()
    databases["bulk_create"] = connection

    connection = copy_of(templates.empty)
    raw.load(connection, data)
    databases["sqlite3"] = connection

    dumps = {name: dump(connection) for name, connection in databases.items()}
    assert len(dumps["sqlite3"]["heroteamlink"]) == 2 * data.size
    assert all(d == dumps["sqlite3"] for d in dumps.values()), {
        name: d == dumps["sqlite3"] for name, d in dumps.items()
    }


def test_the_hand_written_migration_is_the_upgrade(templates: Templates) -> None:
    """Workload 4's floor runs what heroes_sa.upgrade runs, to the same end."""
    by_heroes_sa = copy_of(templates.loaded_one_to_many)
    heroes_sa.upgrade(heroes_sa_engine(by_heroes_sa))
    by_hand = copy_of(templates.loaded_one_to_many)
    raw.migrate_to_head(by_hand)

    assert schema(by_hand) == schema(by_heroes_sa)
    assert dump(by_hand) == dump(by_heroes_sa)
    assert len(dump(by_hand)["heroteamlink"]) == templates.data.size
    version = "SELECT version_num FROM alembic_version"
    assert by_hand.execute(version).fetchall() == [(heroes_sa.head_revision(),)]


def test_every_reader_reads_the_same(templates: Templates) -> None:
    """Workload 3's implementations return the same heroes with the same teams."""
    engine = templates.shared_engine("read", templates.loaded)
    with Session(engine) as session:
        eager = read_selectin(session)
    with Session(engine) as session:
        lazy = read_lazy(session)
    sm_engine = templates.shared_engine("sm", templates.loaded, sqlmodel_peer=True)
    with sqlmodel.Session(sm_engine) as sm_session:
        peer = read_sqlmodel(sm_session)
    by_hand = [
        (hero[1], [team[1] for team in teams])
        for hero, teams in raw.read_heroes_with_teams(templates.loaded)
    ]

    def normal(result: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
        return sorted((name, sorted(teams)) for name, teams in result)

    assert len(eager) == templates.data.size
    assert normal(eager) == normal(lazy) == normal(peer) == normal(by_hand)


def results_with(per_unit: dict[tuple[str, str], list[float]]) -> Results:
    """Results whose rows take these microseconds per unit at sizes 1k, 10k, 100k."""
    results = Results(sizes=[1_000, 10_000, 100_000])
    for work in WORKLOADS:
        for implementation in work.implementations:
            values = per_unit.get((work.key, implementation.name), [10.0, 10.0, 10.0])
            for size, us in zip(results.sizes, values, strict=True):
                units = 100 if work.unit == "test" else size
                sample = Sample(cpu=us * units / 1e6, wall=0.0, units=units)
                results.add(work, implementation.name, size, sample)
        if work.key == "read":
            results.statements = {
                s: {"heroes_sa selectinload": 1 + -(-s // 500)} for s in results.sizes
            }
    results.compute_ratios()
    return results


def test_goals_are_judged_from_the_figures() -> None:
    met = results_with(
        {
            ("create", "heroes_sa"): [7.0, 7.0, 7.0],
            ("bulk", "heroes_sa bulk_create"): [29.0, 29.0, 29.0],
            ("read", "heroes_sa selectinload"): [1.0, 1.0, 1.0],
            ("read", "heroes_sa lazy"): [10.0, 10.0, 10.0],
            ("read", "SQLModel selectinload"): [1.0, 1.0, 1.0],
            ("migrate", "heroes_sa upgrade"): [19.0, 19.0, 19.0],
            ("fixtures", "heroes_session"): [0.5, 0.5, 0.5],
            ("fixtures", "migrate per test"): [10.0, 10.0, 10.0],
            ("fixtures", "create_all per test"): [2.5, 2.5, 2.5],
        }
    )
    assert [g.id for g in evaluate_goals(met) if not g.met] == []

    missed = results_with(
        {
            ("create", "heroes_sa"): [7.0, 9.5, 7.0],
            ("bulk", "heroes_sa bulk_create"): [29.0, 29.0, 31.0],
            ("read", "heroes_sa selectinload"): [1.0, 1.1, 1.6],
            ("read", "heroes_sa lazy"): [10.0, 10.0, 10.0],
            ("read", "SQLModel selectinload"): [1.0, 1.0, 1.0],
            ("migrate", "heroes_sa upgrade"): [10.0, 14.0, 21.0],
            ("fixtures", "heroes_session"): [0.6, 0.5, 0.5],
            ("fixtures", "migrate per test"): [10.0, 10.0, 10.0],
            ("fixtures", "create_all per test"): [2.5, 2.5, 2.5],
        }
    )
    assert [g.id for g in evaluate_goals(missed) if not g.met] == [
        "1", "2", "3b", "3c", "4a", "4b", "5a", "5b", "6"
    ]  # fmt: skip


def test_every_implementation_is_reachable_by_name() -> None:
    """``--profile WORKLOAD:IMPLEMENTATION:SIZE`` finds each one."""
    for work in WORKLOADS:
        assert workload(work.key) is work
        for implementation in work.implementations:
            assert work.implementation(implementation.name) is implementation
    with pytest.raises(KeyError, match="no workload 'nope'"):
        workload("nope")
    with pytest.raises(KeyError, match="has no implementation 'nope'"):
        workload("read").implementation("nope")


def test_quick_settings_keep_the_smoke_run_small() -> None:
    assert Settings(tests=4).slow_tests == 2
    assert run.default_repeats(1_000) > run.default_repeats(100_000)


def test_the_phase_split_covers_both_peers(capsys: pytest.CaptureFixture[str]) -> None:
    """bench/phases.py, the evidence behind goal 1, keeps running."""
    assert phases.main(["30", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "30 heroes, median of 1, CPU microseconds per hero"
    assert [line.split()[0] for line in lines[2:]] == ["build", "add", "commit", "total"]


@pytest.mark.slow
@pytest.mark.backends("sqlite", reason="the benchmark runs on in-memory SQLite whatever the suite")
@pytest.mark.skipif(instructions.available() is not None, reason="valgrind is not installed")
def test_instruction_counts_cover_the_timed_blocks_only() -> None:
    """--instructions: callgrind counts between the markers, not the setup."""
    found = instructions.count(workload("create"), "sqlite3", 50, Settings(tests=4))
    assert found.units == 50
    # Imports and migrations alone are hundreds of millions of instructions,
    # millions per hero here; the load itself is a few thousand per hero.
    assert 1_000 < found.per_unit < 200_000


def test_the_instruction_goal_is_judged_from_the_counts() -> None:
    work = workload("create")

    def judged(heroes_sa: int) -> bool:
        counts = {
            ("create", "heroes_sa", 1000): instructions.Count(heroes_sa, 1000),
            ("create", "SQLModel", 1000): instructions.Count(1_000_000, 1000),
        }
        (goal,) = instructions.evaluate_goals([work], instructions.InstructionResults(counts))
        return goal.met

    assert judged(880_000)
    assert not judged(881_000)
