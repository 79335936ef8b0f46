"""What the pytest fixtures cost per test, paid the way a downstream suite pays it.

``python bench/fixture_cost.py [--db-url URL]... [--tests N] [--repeats R]``

Builds heroes_sa's wheel and installs it outside the repository
(:mod:`bench.downstream`), writes suites of N empty tests and runs each with
plain ``python -m pytest``, on in-memory SQLite and on every server given
with ``--db-url`` (passed on as ``--heroes-db-url``).  Each suite differs
from its reference only in what its tests ask for:

* ``bare``: ``def test_n(): pass``, the reference of the sync fixtures;
* ``heroes_session``: ``def test_n(heroes_session): pass``, at head with no
  marker, which is what the targets are about;
* ``heroes_session + heroes_restart_identities``: ids restarted per test;
* ``bare async`` and ``heroes_async_session``: the same under pytest-asyncio.

Every suite starts with one test using the fixture, so the one-off work
(migrating, creating the namespace) is in every suite alike and in no
figure.  A small plugin (:mod:`bench.pertest_timer`) times each test's
whole run protocol (set-up, call, teardown, report); the figure is the mean
over the tests, minus the reference suite's mean from the same repetition,
the median over repetitions whose suites ran interleaved.  The JSON also
has the same difference over each pytest process's total wall time
(collection included), too noisy at these sizes for the table.

On SQLite everything happens in the pytest process, so its CPU time is the
figure judged (the shared machine's other work does not count); on a
server the test waits for round trips, so wall time is.  Prints the table
and writes ``bench/fixture_cost.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

if __package__ in (None, ""):
    # Run as a script (python bench/fixture_cost.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import make_url

from bench import pertest_timer
from bench.downstream import downstream_env, installed_wheel

HERE: Final = Path(__file__).resolve().parent

#: Microseconds per test above a bare test, for heroes_session at head.
TARGETS_US: Final = {"sqlite": 300.0, "postgresql": 1000.0, "mysql": 1000.0}

INI: Final = """\
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""


@dataclass(frozen=True)
class Suite:
    """A generated suite of empty tests, each asking for ``fixtures``."""

    name: str
    fixtures: str
    is_async: bool
    #: The suite this one's figures are taken over.
    reference: str
    #: The fixture the first test asks for, so one-off set-up is in every suite.
    warm_up: str
    #: Whether the targets apply.
    judged: bool = False

    def source(self, tests: int) -> str:
        define = "async def" if self.is_async else "def"
        lines = [f"{define} test_0_warm_up({self.warm_up}):\n    pass\n"]
        lines += [f"{define} test_{n}({self.fixtures}):\n    pass\n" for n in range(1, tests + 1)]
        return "\n\n".join(lines)


SUITES: Final = (
    Suite("bare", "", False, "bare", "heroes_session"),
    Suite("heroes_session", "heroes_session", False, "bare", "heroes_session", judged=True),
    Suite(
        "heroes_session + heroes_restart_identities",
        "heroes_session, heroes_restart_identities",
        False,
        "bare",
        "heroes_session",
    ),
    Suite("bare async", "", True, "bare async", "heroes_async_session"),
    Suite(
        "heroes_async_session",
        "heroes_async_session",
        True,
        "bare async",
        "heroes_async_session",
    ),
)


@dataclass(frozen=True)
class Run:
    """One pytest process over one suite: mean seconds per test, and its total."""

    wall: float
    cpu: float
    total_wall: float


def backend_name(url: str | None) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB's URLs included)."""
    if url is None:
        return "sqlite"
    backend = make_url(url).get_backend_name()
    return "mysql" if backend == "mariadb" else backend


def write_suite(directory: Path, suite: Suite, tests: int) -> None:
    directory.mkdir(parents=True)
    (directory / "pytest.ini").write_text(INI)
    (directory / "test_suite.py").write_text(suite.source(tests))
    shutil.copy(Path(pertest_timer.__file__), directory / "pertest_timer.py")


def run_suite(directory: Path, site: Path, url: str | None, tests: int) -> Run:
    """Run the suite in ``directory`` once with plain pytest; its figures."""
    times = directory / "times.json"
    env = {**downstream_env(site), pertest_timer.TIMES_ENV_VAR: str(times)}
    command = [sys.executable, "-s", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    # Test order matters here (the warm-up first), so no shuffling plugin.
    command += ["-p", "no:randomly", "-p", "pertest_timer"]
    if url is not None:
        command += ["--heroes-db-url", url]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=directory, env=env, capture_output=True, text=True, check=False, timeout=900
    )
    total = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{directory.name}: pytest failed:\n{done.stdout}\n{done.stderr}")
    document = json.loads(times.read_text())
    if not str(document["heroes_sa"]).startswith(str(site)):
        raise RuntimeError(f"heroes_sa was not the installed wheel: {document['heroes_sa']}")
    # Not the warm-up (one-off set-up) nor the last test (session teardown).
    timed = document["tests"][1:-1]
    if len(timed) != tests - 1:
        raise RuntimeError(f"{directory.name}: {len(document['tests'])} tests ran")
    return Run(
        wall=statistics.fmean(t[1] for t in timed),
        cpu=statistics.fmean(t[2] for t in timed),
        total_wall=total,
    )


def available(suite: Suite) -> str | None:
    """Why ``suite`` cannot run here, or None."""
    if suite.is_async:
        for module in ("pytest_asyncio", "greenlet"):
            try:
                __import__(module)
            except ImportError:
                return f"{module} is not installed (pip install 'heroes_sa[async-testing]')"
    return None


def measure(
    site: Path, url: str | None, tests: int, repeats: int, scratch: Path
) -> dict[str, dict[str, Any]]:
    """Every suite on one backend, interleaved; figures over each suite's reference."""
    suites = [s for s in SUITES if available(s) is None]
    for suite in suites:
        write_suite(scratch / suite.name.replace(" ", "_"), suite, tests)
    runs: dict[str, list[Run]] = {s.name: [] for s in suites}
    for repetition in range(repeats):
        shift = repetition % len(suites)
        for suite in suites[shift:] + suites[:shift]:
            run = run_suite(scratch / suite.name.replace(" ", "_"), site, url, tests)
            runs[suite.name].append(run)
            print(
                f"  {backend_name(url):<10} {suite.name:<44} {repetition + 1}/{repeats}:"
                f" {run.wall * 1e6:8.1f} us wall {run.cpu * 1e6:8.1f} us cpu per test",
                file=sys.stderr,
                flush=True,
            )
    figures: dict[str, dict[str, Any]] = {}
    for suite in suites:
        if suite.name == suite.reference:
            continue
        mine, base = runs[suite.name], runs[suite.reference]

        def over(field: str, per: int, mine: list[Run] = mine, base: list[Run] = base) -> float:
            differences: list[float] = [
                getattr(m, field) - getattr(b, field) for m, b in zip(mine, base, strict=True)
            ]
            return statistics.median(differences) / per * 1e6

        figures[suite.name] = {
            "wall_us": over("wall", 1),
            "cpu_us": over("cpu", 1),
            "whole_run_wall_us": over("total_wall", tests),
            "reference": suite.reference,
            "reference_wall_us": statistics.median(r.wall for r in base) * 1e6,
            "judged": suite.judged,
        }
    for suite in SUITES:
        reason = available(suite)
        if reason is not None:
            figures[suite.name] = {"skipped": reason}
    return figures


def judge(backend: str, figure: dict[str, Any]) -> tuple[float | None, str]:
    """The target and the verdict for one figure (CPU on SQLite, wall on a server)."""
    if not figure.get("judged"):
        return None, ""
    target = TARGETS_US[backend]
    value = figure["cpu_us"] if backend == "sqlite" else figure["wall_us"]
    return target, "met" if value <= target else "MISSED"


def format_table(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The figures of every backend, with the targets."""
    header = f"{'backend':<11}{'fixtures':<44}{'wall us':>9}{'cpu us':>9}{'target':>9}  verdict"
    lines = ["Cost per test over the same empty test without the fixtures", header]
    for backend, figures in results.items():
        for name, figure in figures.items():
            if "skipped" in figure:
                lines.append(f"{backend:<11}{name:<44}  skipped: {figure['skipped']}")
                continue
            target, verdict = judge(backend, figure)
            lines.append(
                f"{backend:<11}{name:<44}{figure['wall_us']:>9.0f}{figure['cpu_us']:>9.0f}"
                f"{'' if target is None else f'<= {target:.0f}':>9}  {verdict}"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/fixture_cost.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--db-url",
        action="append",
        default=[],
        metavar="URL",
        help="also measure on this server (repeatable), e.g. postgresql+psycopg://...",
    )
    parser.add_argument("--tests", type=int, default=400, help="tests per suite (default 400)")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument("--out", type=Path, default=HERE / "fixture_cost.json")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table, write the JSON; 0 even when a target is missed."""
    args = parse_args(argv)
    if args.tests < 3:
        raise SystemExit("--tests must be at least 3: the first and last are not timed")
    load_at_start = os.getloadavg()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with installed_wheel() as site, tempfile.TemporaryDirectory() as scratch:
        for url in [None, *args.db_url]:
            backend = backend_name(url)
            results[backend] = measure(site, url, args.tests, args.repeats, Path(scratch) / backend)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    table = format_table(results)
    print(table)
    servers = [make_url(u).render_as_string(hide_password=True) for u in args.db_url]
    document = {
        "command": " ".join(["python", "bench/fixture_cost.py", *(argv or sys.argv[1:])]),
        "servers": servers,
        "tests_per_suite": args.tests,
        "repeats": args.repeats,
        "targets_us": TARGETS_US,
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "load_average": {"start": load_at_start, "end": os.getloadavg()},
        "child_cpu_seconds": cpu_after.ru_utime - cpu_before.ru_utime,
        "results": results,
        "table": table.splitlines(),
    }
    args.out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
