"""Run the heroes_sa benchmark: ``python bench/run.py`` (``--quick`` for a smoke run).

Every workload runs at each size on the same data for every implementation.
Samples are interleaved (each repetition runs every implementation once, in a
rotating order), so a slow spell on a shared machine hits all of them alike,
and each figure is the median over the repetitions.  Times are CPU seconds of
this process: every database is in memory, so that is the work done, and it
does not count the time other processes held the CPU.  Wall-clock medians go
to results.json too.

Prints the table and the goals, writes results.json and chart.png (to bench/,
or bench/quick/ for ``--quick``, or ``--out``).  ``--profile
WORKLOAD:IMPLEMENTATION:SIZE`` instead runs one sample under pyinstrument and
prints where the time goes.  ``--instructions`` counts instructions under
callgrind instead of timing (bench/instructions.py), and writes
instructions.json.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    # Run as a script (python bench/run.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import instructions
from bench.data import Dataset
from bench.databases import Templates
from bench.report import (
    Results,
    evaluate_goals,
    format_goals,
    format_table,
    write_chart,
    write_json,
)
from bench.workloads import (
    WORKLOADS,
    Settings,
    Stopwatch,
    Workload,
    read_statement_counts,
    workload,
)

HERE = Path(__file__).resolve().parent
FULL_SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (20, 40, 80)


def default_repeats(size: int) -> int:
    """More repetitions where samples are short, fewer where one takes many seconds."""
    if size <= 1_000:
        return 9
    if size <= 10_000:
        return 7
    return 5


def machine() -> dict[str, Any]:
    """What the run ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("heroes_sa", "sqlalchemy", "alembic", "sqlmodel", "pydantic"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "versions": versions,
        "load_average_at_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--sizes", help="comma-separated hero counts (default 1000,10000,100000)")
    parser.add_argument("--repeats", type=int, help="repetitions per size (default 9/7/5)")
    parser.add_argument(
        "--only", help=f"comma-separated workloads: {','.join(w.key for w in WORKLOADS)}"
    )
    parser.add_argument("--out", type=Path, help="directory for results.json and chart.png")
    parser.add_argument("--no-chart", action="store_true", help="skip the chart")
    parser.add_argument("--profile", metavar="WORKLOAD:IMPLEMENTATION:SIZE")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions under valgrind's callgrind (one run each) instead of timing",
    )
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="diagnostic: pause Python's cyclic garbage collector while timing",
    )
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warm_up(works: Sequence[Workload], settings: Settings) -> None:
    """One untimed pass on a few heroes: imports, mapper setup, statement caches."""
    templates = Templates(Dataset(10))
    try:
        for work in works:
            for implementation in work.implementations:
                implementation.measure(templates, settings)
    finally:
        templates.close()


def measure(
    works: Sequence[Workload], sizes: Sequence[int], repeats: int | None, settings: Settings
) -> Results:
    """Every implementation of every workload at every size, interleaved."""
    results = Results(sizes=list(sizes))
    warm_up(works, settings)
    for size in sizes:
        templates = Templates(Dataset(size))
        data = templates.data
        # Build the data set (cached) before anything is timed.
        _ = data.teams, data.heroes, data.memberships, data.teams_of, data.team_of_one_to_many
        try:
            for work in works:
                count = repeats or default_repeats(size)
                for repetition in range(count):
                    shift = repetition % len(work.implementations)
                    order = work.implementations[shift:] + work.implementations[:shift]
                    for implementation in order:
                        sample = implementation.measure(templates, settings)
                        results.add(work, implementation.name, size, sample)
                        log(
                            f"{work.key:<9} {implementation.name:<24} {size:>7,}"
                            f" {repetition + 1}/{count}: {sample.cpu:8.3f} s cpu"
                            f" {sample.wall:8.3f} s wall"
                        )
                if work.key == "read":
                    results.statements[size] = read_statement_counts(templates)
        finally:
            templates.close()
    results.compute_ratios()
    return results


def profile(spec: str, settings: Settings) -> None:
    """Run one sample under pyinstrument and print the call tree (setup included)."""
    from pyinstrument import Profiler

    work_key, name, size = spec.split(":")
    implementation = workload(work_key).implementation(name)
    templates = Templates(Dataset(int(size)))
    try:
        # Once unprofiled first: imports, templates, statement caches.
        implementation.measure(templates, settings)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        implementation.measure(templates, settings)
        profiler.stop()
    finally:
        templates.close()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def count_instructions(
    works: Sequence[Workload],
    sizes: Sequence[int],
    settings: Settings,
    out: Path,
    about: dict[str, Any],
    argv: Sequence[str] | None,
) -> int:
    """``--instructions``: one callgrind run per implementation and size."""
    missing = instructions.available()
    if missing is not None:
        log(f"--instructions: {missing}")
        return 2
    results = instructions.measure(works, sizes, settings, log)
    goals = instructions.evaluate_goals(works, results)
    print(instructions.format_table(works, results))
    print(format_goals(goals))
    document = {
        "machine": about,
        "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])]),
        "counter": "valgrind --tool=callgrind, instructions (Ir) in the timed blocks,"
        " PYTHONHASHSEED=0",
        "results": [
            {
                "workload": key,
                "implementation": name,
                "size": size,
                "instructions": found.instructions,
                "units": found.units,
                "per_unit": found.per_unit,
            }
            for (key, name, size), found in results.counts.items()
        ],
        "goals": [asdict(goal) for goal in goals],
    }
    (out / "instructions.json").write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {out / 'instructions.json'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status (0 even when goals are missed)."""
    args = parse_args(argv)
    settings = Settings(tests=4) if args.quick else Settings()
    Stopwatch.pause_gc = args.no_gc
    if args.profile:
        profile(args.profile, settings)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    sizes = sizes or list(QUICK_SIZES if args.quick else FULL_SIZES)
    repeats = args.repeats or (1 if args.quick else None)
    works = [workload(key) for key in args.only.split(",")] if args.only else list(WORKLOADS)
    out = args.out or (HERE / "quick" if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)

    about = machine()
    if args.instructions:
        return count_instructions(works, sizes, settings, out, about, argv)
    results = measure(works, sizes, repeats, settings)
    about["load_average_at_end"] = os.getloadavg()
    goals = evaluate_goals(results)

    print(format_table(results))
    print(format_goals(goals))
    run_settings = {
        "sizes": sizes,
        "repeats": {str(size): repeats or default_repeats(size) for size in sizes},
        "teams": {str(size): Dataset(size).team_count for size in sizes},
        "tests_per_sample": {"heroes_session": settings.tests, "others": settings.slow_tests},
        "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])]),
        "garbage_collector": "paused while timing" if args.no_gc else "on, as in normal use",
    }
    write_json(out / "results.json", results, goals, about, run_settings)
    written = [out / "results.json"]
    if not args.no_chart:
        caption = "\n".join(
            [
                f"{about['cpu']}, {about['cores']} cores",
                f"Python {about['python']}, SQLite {about['sqlite']}",
                f"SQLAlchemy {about['versions']['sqlalchemy']},"
                f" SQLModel {about['versions']['sqlmodel']}",
                f"median CPU time, {about['date']}",
                "lower is better; raw sqlite3 (the floor) dashed",
            ]
        )
        write_chart(out / "chart.png", results, caption)
        written.append(out / "chart.png")
    print("\nwrote " + ", ".join(str(path) for path in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
