"""What revision 0002 costs on a SQLite file of HEROES heroes, up and down.

``python bench/migrate_sqlite.py [HEROES] [REPEATS] [OTHER_TREE]``: builds a
database at 0001_one_to_many with HEROES heroes (default 100,000), each in one
of 49 teams but every fiftieth in none, then times ``heroes_sa.upgrade(engine,
"0002_many_to_many")`` and ``heroes_sa.downgrade(engine, "0001_one_to_many")``
(wall time, median of REPEATS, default 5, each on a fresh copy of the file).

With OTHER_TREE (a directory holding another heroes_sa, such as main's:
``git archive main | tar -x -C /tmp/heroes-main``), the same runs are made
with that tree's code in the same session, alternating with this one's, so
the two sets of figures are side by side on the same machine load.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = """
import json, sys, time
import heroes_sa
from heroes_sa import one_to_many

path, heroes = sys.argv[1], int(sys.argv[2])
engine = heroes_sa.create_engine(f"sqlite:///{path}", sqlite_wal=False)
heroes_sa.upgrade(engine, one_to_many.REVISION)
with engine.begin() as connection:
    connection.execute(
        one_to_many.Team.__table__.insert(),
        [{"name": f"team-{i}", "headquarters": "hq"} for i in range(50)],
    )
    connection.execute(
        one_to_many.Hero.__table__.insert(),
        [
            {"name": f"hero-{i}", "secret_name": "s", "team_id": i % 50 or None}
            for i in range(heroes)
        ],
    )
engine.dispose()
"""

TIME = """
import json, sys, time
import heroes_sa

path = sys.argv[1]
engine = heroes_sa.create_engine(f"sqlite:///{path}", sqlite_wal=False)
start = time.perf_counter()
heroes_sa.upgrade(engine, "0002_many_to_many")
up = time.perf_counter() - start
start = time.perf_counter()
heroes_sa.downgrade(engine, "0001_one_to_many")
down = time.perf_counter() - start
engine.dispose()
print(json.dumps({"up": up, "down": down, "module": heroes_sa.__file__}))
"""


def python(tree: Path, code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("HEROES_DATABASE_URL", None)
    # Run from the tree itself: python -c puts the working directory first on sys.path.
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> int:
    heroes = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    trees = {"this tree": Path(__file__).resolve().parent.parent}
    if len(sys.argv) > 3:
        trees["other tree"] = Path(sys.argv[3]).resolve()
    with tempfile.TemporaryDirectory() as scratch:
        seeded = Path(scratch) / "seeded.db"
        python(trees["this tree"], SEED, str(seeded), str(heroes))
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(repeats):
            for name, tree in trees.items():
                copy = Path(scratch) / "run.db"
                shutil.copyfile(seeded, copy)
                result = json.loads(python(tree, TIME, str(copy)))
                assert Path(result.pop("module")).is_relative_to(tree), "ran another heroes_sa"
                runs[name].append(result)
    print(f"revision 0002 on a SQLite file of {heroes:,} heroes, median of {repeats} (s)")
    for name, results in runs.items():
        up = statistics.median(r["up"] for r in results)
        down = statistics.median(r["down"] for r in results)
        print(f"  {name:<10} ({trees[name]}): upgrade {up:.3f}  downgrade {down:.3f}")
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    status = main()
    print(f"({time.perf_counter() - start:.0f} s in all)")
    sys.exit(status)
