"""Turning samples into the table, the goals, results.json and the chart."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.workloads import WORKLOADS, Sample, Workload, workload


@dataclass
class Row:
    """Every sample of one implementation of one workload at one size."""

    workload: str
    implementation: str
    size: int
    unit: str
    samples: list[Sample] = field(default_factory=list)
    #: Median time per unit over the reference implementation's, same workload and size.
    ratio: float | None = None

    @property
    def seconds(self) -> float:
        """Median CPU seconds: the figure every ratio and goal uses."""
        return statistics.median(s.cpu for s in self.samples)

    @property
    def wall_seconds(self) -> float:
        """Median wall-clock seconds, for reference (noisier on a shared machine)."""
        return statistics.median(s.wall for s in self.samples)

    @property
    def units(self) -> int:
        return self.samples[0].units

    @property
    def per_unit_us(self) -> float:
        """Median microseconds per hero (or per test)."""
        return self.seconds / self.units * 1e6

    def as_json(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "implementation": self.implementation,
            "size": self.size,
            "unit": self.unit,
            "units_per_sample": self.units,
            "median_cpu_seconds": self.seconds,
            "median_wall_seconds": self.wall_seconds,
            "per_unit_microseconds": self.per_unit_us,
            "ratio_to_reference": self.ratio,
            "cpu_seconds": [s.cpu for s in self.samples],
            "wall_seconds": [s.wall for s in self.samples],
        }


@dataclass
class Results:
    """All rows of a run, plus the statement counts of the eager reads."""

    sizes: list[int]
    rows: dict[tuple[str, str, int], Row] = field(default_factory=dict)
    statements: dict[int, dict[str, int]] = field(default_factory=dict)

    def add(self, work: Workload, implementation: str, size: int, sample: Sample) -> None:
        key = (work.key, implementation, size)
        if key not in self.rows:
            self.rows[key] = Row(work.key, implementation, size, work.unit)
        self.rows[key].samples.append(sample)

    def row(self, work: str, implementation: str, size: int) -> Row:
        return self.rows[(work, implementation, size)]

    def has(self, work: str) -> bool:
        return any(key[0] == work for key in self.rows)

    def compute_ratios(self) -> None:
        for row in self.rows.values():
            reference = self.rows.get((row.workload, workload(row.workload).reference, row.size))
            # Per unit: the fixture strategies run different numbers of tests.
            row.ratio = row.per_unit_us / reference.per_unit_us if reference else None


#: Goal 1 in CPU time (bench/instructions.py has it in instructions, 0.88x).
CREATE_CPU_GOAL = 0.90


@dataclass(frozen=True)
class Goal:
    """One of the issue's goals, as measured in this run."""

    id: str
    text: str
    measured: str
    met: bool


def _sizes_text(values: Iterable[tuple[int, float]], fmt: str) -> str:
    return ", ".join(f"{format(v, fmt)} at {_size_label(size)}" for size, v in values)


def _size_label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 and size % 1000 == 0 else str(size)


def evaluate_goals(results: Results) -> list[Goal]:
    """Each goal the run has the workloads for, with the figures behind it."""
    sizes = sorted(results.sizes)
    small, large = sizes[0], sizes[-1]
    mid = sizes[len(sizes) // 2]
    goals: list[Goal] = []

    def ratio(work: str, a: str, b: str, size: int) -> float:
        return results.row(work, a, size).per_unit_us / results.row(work, b, size).per_unit_us

    def growth(work: str, implementation: str, over: int = small) -> float:
        return (
            results.row(work, implementation, large).per_unit_us
            / results.row(work, implementation, over).per_unit_us
        )

    if results.has("create"):
        values = [(s, ratio("create", "heroes_sa", "SQLModel", s)) for s in sizes]
        goals.append(
            Goal(
                "1",
                f"create via Hero(teams=[...]): heroes_sa <= {CREATE_CPU_GOAL}x SQLModel"
                " in CPU time",
                _sizes_text(values, ".2f") + " (x SQLModel)",
                all(v <= CREATE_CPU_GOAL for _, v in values),
            )
        )
    if results.has("bulk"):
        value = ratio("bulk", "heroes_sa bulk_create", "sqlite3", large)
        goals.append(
            Goal(
                "2",
                f"bulk_create <= 3x raw sqlite3 at {_size_label(large)}",
                f"{value:.2f}x",
                value <= 3,
            )
        )
    if results.has("read"):
        if results.statements:
            expected = {size: 1 + math.ceil(size / 500) for size in sizes}
            counts = {size: results.statements[size]["heroes_sa selectinload"] for size in sizes}
            goals.append(
                Goal(
                    "3a",
                    "selectinload never queries per hero (1 + one per 500 heroes)",
                    ", ".join(
                        f"{counts[s]} SELECTs at {_size_label(s)} (expected {expected[s]})"
                        for s in sizes
                    ),
                    counts == expected,
                )
            )
        value = ratio("read", "heroes_sa lazy", "heroes_sa selectinload", mid)
        goals.append(
            Goal(
                "3b",
                f"selectinload >= 10x faster than lazy loading at {_size_label(mid)}",
                f"{value:.1f}x faster",
                value >= 10,
            )
        )
        values = [
            (s, ratio("read", "heroes_sa selectinload", "SQLModel selectinload", s)) for s in sizes
        ]
        goals.append(
            Goal(
                "3c",
                "selectinload no slower than SQLModel's",
                _sizes_text(values, ".2f") + " (x SQLModel)",
                all(v <= 1 for _, v in values),
            )
        )
    if results.has("migrate"):
        value = ratio("migrate", "heroes_sa upgrade", "sqlite3", large)
        goals.append(
            Goal(
                "4a",
                f"migration within 2x of the same SQL by hand at {_size_label(large)}",
                f"{value:.2f}x",
                value <= 2,
            )
        )
        growths = [growth("migrate", "heroes_sa upgrade", over) for over in sizes[:-1]]
        goals.append(
            Goal(
                "4b",
                "migration time grows linearly (per hero at the largest size <= 1.5x"
                " per hero at each smaller size)",
                ", ".join(
                    f"{g:.2f}x vs {_size_label(s)}" for s, g in zip(sizes, growths, strict=False)
                ),
                all(g <= 1.5 for g in growths),
            )
        )
    if results.has("fixtures"):
        for goal_id, other, target in (
            ("5a", "migrate per test", 20),
            ("5b", "create_all per test", 5),
        ):
            values = [(s, ratio("fixtures", other, "heroes_session", s)) for s in sizes]
            goals.append(
                Goal(
                    goal_id,
                    f"heroes_session >= {target}x cheaper per test than {other}",
                    _sizes_text(values, ".1f") + " (x cheaper)",
                    all(v >= target for _, v in values),
                )
            )
    paths = {
        "create": "heroes_sa",
        "bulk": "heroes_sa bulk_create",
        "read": "heroes_sa selectinload",
        "migrate": "heroes_sa upgrade",
        "fixtures": "heroes_session",
    }
    present = [
        (work, implementation) for work, implementation in paths.items() if results.has(work)
    ]
    if present:
        values_6 = [
            (f"{work}: {growth(work, implementation):.2f}x", growth(work, implementation))
            for work, implementation in present
        ]
        goals.append(
            Goal(
                "6",
                f"per unit at {_size_label(large)} within 1.5x of per unit at {_size_label(small)}",
                ", ".join(text for text, _ in values_6),
                all(v <= 1.5 for _, v in values_6),
            )
        )
    return goals


def format_table(results: Results) -> str:
    """The one table: every workload, implementation and size."""
    lines = []
    header = f"{'implementation':<24}{'size':>9}{'time (s)':>11}{'per unit':>19}{'ratio':>8}"
    for work in WORKLOADS:
        if not results.has(work.key):
            continue
        lines.append("")
        lines.append(f"{work.title}  [ratio = time / {work.reference}]")
        lines.append(header)
        for size in sorted(results.sizes):
            for implementation in work.implementations:
                row = results.rows.get((work.key, implementation.name, size))
                if row is None:
                    continue
                per_unit = f"{row.per_unit_us:,.1f} us/{work.unit}"
                ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
                lines.append(
                    f"{implementation.name:<24}{size:>9,}{row.seconds:>11.3f}"
                    f"{per_unit:>19}{ratio:>8}"
                )
    return "\n".join(lines)


def format_goals(goals: Sequence[Goal]) -> str:
    lines = ["", "Goals"]
    for goal in goals:
        lines.append(
            f"  [{'met' if goal.met else 'MISSED'}] {goal.id}. {goal.text}: {goal.measured}"
        )
    return "\n".join(lines)


def write_json(
    path: Path,
    results: Results,
    goals: Sequence[Goal],
    machine: dict[str, Any],
    settings: dict[str, Any],
) -> None:
    document = {
        "machine": machine,
        "settings": settings,
        "clock": "CPU time of the benchmark process (time.process_time); wall time alongside",
        "results": [row.as_json() for row in results.rows.values()],
        "select_statements_of_eager_reads": {
            str(size): counts for size, counts in sorted(results.statements.items())
        },
        "goals": [asdict(goal) for goal in goals],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


#: One colour per kind of implementation in every panel; the floor dashed.
_STYLE: dict[str, tuple[str, str]] = {
    "SQLModel": ("C1", "-"),
    "SQLModel selectinload": ("C1", "-"),
    "sqlite3": ("C7", "--"),
    "heroes_sa lazy": ("C3", "-"),
    "migrate per test": ("C3", "-"),
    "create_all per test": ("C2", "-"),
}


def write_chart(path: Path, results: Results, caption: str) -> None:
    """Time per hero (per test for fixtures) against size, one panel per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    works = [w for w in WORKLOADS if results.has(w.key)]
    columns = 3
    rows = math.ceil((len(works) + 1) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 4 * rows), squeeze=False)
    flat = list(axes.flat)
    sizes = sorted(results.sizes)
    for axis, work in zip(flat, works, strict=False):
        for implementation in work.implementations:
            points = [
                (size, results.rows[(work.key, implementation.name, size)].per_unit_us)
                for size in sizes
                if (work.key, implementation.name, size) in results.rows
            ]
            if points:
                color, style = _STYLE.get(implementation.name, ("C0", "-"))
                axis.plot(
                    *zip(*points, strict=True),
                    color=color,
                    linestyle=style,
                    marker="o",
                    label=implementation.name,
                )
        axis.set_title(work.title, fontsize=10)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(sizes, [_size_label(s) for s in sizes])
        axis.minorticks_off()
        axis.set_xlabel(
            "heroes in the shared database" if work.unit == "test" else "heroes in the data set"
        )
        axis.set_ylabel(f"CPU time per {work.unit} (us)")
        axis.grid(True, which="major", alpha=0.3)
        axis.legend(fontsize=8)
    for axis in flat[len(works) :]:
        axis.axis("off")
    flat[len(works)].text(0, 1, caption, va="top", fontsize=8, family="monospace", wrap=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
