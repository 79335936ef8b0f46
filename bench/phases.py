"""Where workload 1's time goes: ``python bench/phases.py [SIZE] [REPEATS]``.

Splits creating heroes through ``Hero(teams=[...])`` into its three phases,
for heroes_sa and for SQLModel on the same data: building the objects,
``session.add`` of each hero, and the commit (the unit of work's flush: the
same SQLAlchemy code sending the same statements for both).  Whatever
separates the two peers shows up here; see docs/PERFORMANCE.md, goal 1.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script (python bench/phases.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlmodel
from sqlalchemy.orm import Session

import heroes_sa
from bench.data import Dataset
from bench.workloads import Stopwatch
from heroes_sa.many_to_many import Hero, Team
from tests.parity import sqlmodel_many_to_many as sm

PHASES = ("build", "add", "commit")


def phases(
    data: Dataset, session: Session, hero_class: type[Any], team_class: type[Any]
) -> dict[str, float]:
    """CPU seconds of each phase of creating ``data`` through relationships."""
    watches = {phase: Stopwatch(data.size) for phase in PHASES}
    with watches["build"].running():
        teams = [team_class(name=name, headquarters=hq) for name, hq in data.teams]
        heroes = [
            hero_class(
                name=name,
                secret_name=secret_name,
                age=age,
                teams=[teams[position] for position in positions],
            )
            for (name, secret_name, age), positions in zip(data.heroes, data.teams_of, strict=True)
        ]
    with watches["add"].running(collect_garbage=False):
        for hero in heroes:
            session.add(hero)
    with watches["commit"].running(collect_garbage=False):
        session.commit()
    return {phase: watch.result().cpu for phase, watch in watches.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the median of each phase per hero, and the two peers' ratio."""
    args = list(sys.argv[1:] if argv is None else argv)
    size = int(args[0]) if args else 10_000
    repeats = int(args[1]) if len(args) > 1 else 5
    data = Dataset(size)
    samples: dict[str, list[dict[str, float]]] = {"heroes_sa": [], "SQLModel": []}
    for _ in range(repeats):
        engine = heroes_sa.create_engine("sqlite://")
        heroes_sa.upgrade(engine)
        with Session(engine) as session:
            samples["heroes_sa"].append(phases(data, session, Hero, Team))
        engine.dispose()
        engine = sqlmodel.create_engine("sqlite://")
        sm.metadata.create_all(engine)
        with sqlmodel.Session(engine) as sm_session:
            samples["SQLModel"].append(phases(data, sm_session, sm.Hero, sm.Team))
        engine.dispose()

    medians = {
        peer: {phase: statistics.median(s[phase] for s in runs) for phase in PHASES}
        for peer, runs in samples.items()
    }
    print(f"{size:,} heroes, median of {repeats}, CPU microseconds per hero")
    print(f"{'phase':<8}{'heroes_sa':>12}{'SQLModel':>12}{'ratio':>8}")
    for phase in (*PHASES, "total"):
        ours, theirs = (
            sum(medians[peer].values()) if phase == "total" else medians[peer][phase]
            for peer in ("heroes_sa", "SQLModel")
        )
        print(
            f"{phase:<8}{ours / size * 1e6:>12.1f}{theirs / size * 1e6:>12.1f}{ours / theirs:>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
