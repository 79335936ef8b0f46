"""Instruction counts of the benchmark's timed blocks, under valgrind's callgrind.

``python bench/run.py --instructions`` runs here instead of timing.  On a
shared 2-core machine CPU time moves by several percent from run to run; the
number of instructions the same code executes moves by well under one percent,
so small differences (a validation check, an event listener) become visible.

Each implementation runs in a child process under callgrind, with
``PYTHONHASHSEED`` fixed.  The child does the same untimed warm-up as a timed
run, then one sample, in which :class:`~bench.workloads.Stopwatch` calls
``getppid()`` as each timed block starts and ``getsid()`` as it ends.
Callgrind is told to zero its counters on entering ``getppid`` and to dump them
on entering ``getsid`` (``--zero-before`` / ``--dump-before``), so the dumps
hold exactly the timed blocks, setup and row counts excluded.  Nothing else the
workloads run calls either function.

``perf stat -e instructions`` would be far cheaper, but needs a hardware
counter, which this virtual machine does not expose (``perf stat -e
instructions true`` prints ``<not supported>``).  Callgrind runs the code about
50 times slower: 10,000 heroes of the create workload take about two minutes
per implementation.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

if __package__ in (None, ""):
    # Run as a script (python bench/instructions.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import Goal
from bench.workloads import Settings, Stopwatch, Workload, workload

ROOT = Path(__file__).resolve().parent.parent

#: The functions that open and close a timed block (see the module docstring).
START_MARKER = "getppid"
END_MARKER = "getsid"

_SUMMARY = re.compile(rb"^summary:\s+(\d+)", re.MULTILINE)


class InstructionCountError(RuntimeError):
    """Callgrind could not be run, or its output held no timed block."""


@dataclass(frozen=True)
class Count:
    """Instructions executed in the timed blocks of one sample."""

    instructions: int
    #: Heroes (or tests) the sample did: what "per unit" divides by.
    units: int

    @property
    def per_unit(self) -> float:
        return self.instructions / self.units


def available() -> str | None:
    """``None`` when callgrind can run here, else why not."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (apt-get install valgrind)"
    return None


def count(
    work: Workload,
    implementation: str,
    size: int,
    settings: Settings,
    *,
    python: str = sys.executable,
) -> Count:
    """Run one sample of ``implementation`` under callgrind and count its instructions."""
    with tempfile.TemporaryDirectory(prefix="heroes-callgrind-") as scratch:
        out = Path(scratch) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--zero-before={START_MARKER}",
            f"--dump-before={END_MARKER}",
            f"--callgrind-out-file={out}",
            python,
            str(Path(__file__).resolve()),
            work.key,
            implementation,
            str(size),
            str(settings.tests),
        ]
        environment = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise InstructionCountError(
                f"{work.key}:{implementation}:{size} failed under callgrind"
                f" (exit {done.returncode}):\n{done.stderr[-2000:]}"
            )
        units = int(done.stdout.split()[-1])
        # One numbered dump per timed block; the unnumbered file is what ran
        # after the last block (teardown, interpreter exit), not counted.
        blocks = sorted(Path(scratch).glob("callgrind.out.*"))
        if not blocks:
            raise InstructionCountError(f"{work.key}:{implementation}: no timed block was dumped")
        total = 0
        for block in blocks:
            match = _SUMMARY.search(block.read_bytes())
            if match is None:
                raise InstructionCountError(f"no summary line in {block.name}")
            total += int(match.group(1))
    return Count(total, units)


#: Goal 1 in instructions: heroes_sa's create path per hero against SQLModel's.
CREATE_GOAL: Final = 0.88


@dataclass
class InstructionResults:
    """One count per implementation, workload and size."""

    counts: dict[tuple[str, str, int], Count]

    def per_unit(self, work: str, implementation: str, size: int) -> float:
        return self.counts[(work, implementation, size)].per_unit

    def ratio(self, work: Workload, implementation: str, size: int) -> float:
        return self.per_unit(work.key, implementation, size) / self.per_unit(
            work.key, work.reference, size
        )


def measure(
    works: Sequence[Workload],
    sizes: Sequence[int],
    settings: Settings,
    log: Callable[[str], None],
) -> InstructionResults:
    """Every implementation of every workload at every size, one callgrind run each."""
    counts: dict[tuple[str, str, int], Count] = {}
    for size in sizes:
        for work in works:
            for implementation in work.implementations:
                found = count(work, implementation.name, size, settings)
                counts[(work.key, implementation.name, size)] = found
                log(
                    f"{work.key:<9} {implementation.name:<24} {size:>7,}:"
                    f" {found.per_unit:14,.0f} instructions/{work.unit}"
                )
    return InstructionResults(counts)


def format_table(works: Sequence[Workload], results: InstructionResults) -> str:
    """Instructions per unit and the ratio to each workload's reference."""
    lines = []
    for work in works:
        lines += ["", f"{work.title}  [instructions; ratio = per {work.unit} / {work.reference}]"]
        lines.append(f"{'implementation':<24}{'size':>9}{'per ' + work.unit:>22}{'ratio':>8}")
        for (key, name, size), found in results.counts.items():
            if key == work.key:
                lines.append(
                    f"{name:<24}{size:>9,}{found.per_unit:>22,.0f}"
                    f"{results.ratio(work, name, size):>8.3f}"
                )
    return "\n".join(lines)


def evaluate_goals(works: Sequence[Workload], results: InstructionResults) -> list[Goal]:
    """Goal 1 as instructions, where the run has the create workload."""
    create = [work for work in works if work.key == "create"]
    if not create:
        return []
    sizes = sorted({size for key, _, size in results.counts if key == "create"})
    values = [(size, results.ratio(create[0], "heroes_sa", size)) for size in sizes]
    return [
        Goal(
            "1i",
            f"create via Hero(teams=[...]): heroes_sa <= {CREATE_GOAL}x SQLModel in instructions",
            ", ".join(f"{value:.3f} at {size:,}" for size, value in values) + " (x SQLModel)",
            all(value <= CREATE_GOAL for _, value in values),
        )
    ]


def child(argv: Sequence[str]) -> int:
    """In the process callgrind runs: warm up, then one marked sample; print its units."""
    from bench.data import Dataset
    from bench.databases import Templates

    work_key, name, size, tests = argv
    settings = Settings(tests=int(tests))
    implementation = workload(work_key).implementation(name)
    warm = Templates(Dataset(10))
    try:
        implementation.measure(warm, settings)
    finally:
        warm.close()
    templates = Templates(Dataset(int(size)))
    try:
        data = templates.data
        _ = data.teams, data.heroes, data.memberships, data.teams_of, data.team_of_one_to_many
        Stopwatch.mark_blocks = True
        sample = implementation.measure(templates, settings)
    finally:
        Stopwatch.mark_blocks = False
        templates.close()
    print(sample.units)
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
