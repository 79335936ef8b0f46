"""SQLite under concurrency with heroes_sa's defaults: commits per second, rows lost.

``python -m bench.concurrency`` runs each workload and prints what it measured.
Every engine is made by ``heroes_sa.create_engine(url)`` with no options: the
figures are what a user gets without reading the fine print.

``memory-threads``
    Threads sharing one ``heroes_sa.create_engine("sqlite://")``; each runs
    sessions that add a hero and commit, then refresh it and write again (the
    tutorial's pattern), and every fifth session rolls back instead.
``file-writers``
    Threads and processes on one database file at head (on a server too:
    :func:`concurrent_writers` takes any URL), all started at once
    (a barrier), each running read-then-write transactions: a new hero in two
    teams (commit, refresh, write again), a membership switched on or off, and
    ``bulk_create`` (which reads the highest id before it inserts).
``two-migrations``
    Two ``alembic upgrade head`` (or two ``heroes_sa.upgrade``) started together
    on copies of one ``0001_one_to_many`` file with 100k heroes.
``readers``
    Reader threads beside one writer thread: reads per second with the default
    (transactions begin IMMEDIATE, so readers queue for the write lock) and
    with readers that opt out (``sqlite_begin="DEFERRED"``).

The reliability tests (tests/test_reliability.py) run the same workloads and
assert what the figures here report: nothing lost, nothing failed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Final, Protocol

if __package__ in (None, ""):
    # Run as a script (python bench/concurrency.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, one_to_many
from heroes_sa.bulk import bulk_create
from heroes_sa.many_to_many import Hero, Team

ROOT: Final = Path(__file__).resolve().parent.parent

#: A line of the log format in alembic.ini (``INFO  [alembic.runtime.migration] ...``).
LOG_LINE: Final = re.compile(r"[A-Z]+ +\[[\w.]+\] ")

#: Teams in every file database the workloads write to.
TEAMS: Final = 20


class Barrier(Protocol):
    """``threading.Barrier`` or a multiprocessing manager's proxy of one."""

    def wait(self, timeout: float | None = None) -> int: ...


@dataclass
class WorkerLog:
    """What one worker's committed transactions wrote: the truth to compare with."""

    #: Hero name -> (its teams, its age) as the worker last committed them.
    heroes: dict[str, tuple[frozenset[str], int | None]] = field(default_factory=dict)
    #: Names of heroes whose session rolled back: none may be stored.
    rolled_back: list[str] = field(default_factory=list)
    commits: int = 0
    errors: list[str] = field(default_factory=list)
    #: Wall-clock time (``time.time()``, comparable across processes) of the
    #: worker's first and last transaction.
    started: float = 0.0
    finished: float = 0.0


@dataclass
class Outcome:
    """A workload's result, against the database it left behind."""

    logs: list[WorkerLog]
    seconds: float
    #: Committed hero states missing or different in the database.
    lost: int
    #: Rolled-back heroes found in the database.
    kept_after_rollback: int

    @property
    def commits(self) -> int:
        """Commits that returned, over all workers."""
        return sum(log.commits for log in self.logs)

    @property
    def errors(self) -> list[str]:
        """Every error a worker saw."""
        return [error for log in self.logs for error in log.errors]

    def summary(self, name: str) -> str:
        """One line of the printed table."""
        return (
            f"{name:15} {self.commits:6} commits in {self.seconds:5.2f} s ="
            f" {self.commits / self.seconds:6.0f}/s, rows lost {self.lost},"
            f" rolled back but stored {self.kept_after_rollback}, errors {len(self.errors)}"
        )


def stored_heroes(engine: sa.Engine) -> dict[str, tuple[frozenset[str], int | None]]:
    """Every hero in the database with its teams and age."""
    with Session(engine) as session:
        heroes = session.scalars(sa.select(Hero).options(sa.orm.selectinload(Hero.teams)))
        return {h.name: (frozenset(t.name for t in h.teams), h.age) for h in heroes}


def compare(engine: sa.Engine, logs: list[WorkerLog]) -> Outcome:
    """The workload's outcome: what its logs say against what the database holds.

    Its time runs from the first worker's start to the last one's finish.
    """
    seconds = max(log.finished for log in logs) - min(log.started for log in logs)
    expected: dict[str, tuple[frozenset[str], int | None]] = {}
    for log in logs:
        expected.update(log.heroes)
    found = stored_heroes(engine)
    lost = sum(1 for name, state in expected.items() if found.get(name) != state)
    rolled_back = {name for log in logs for name in log.rolled_back}
    return Outcome(logs, seconds, lost, len(rolled_back & found.keys()))


def _error(error: Exception) -> str:
    orig = getattr(error, "orig", None)
    return f"{type(orig or error).__name__}: {orig or error}"


# -- memory-threads ----------------------------------------------------------------


def memory_threads(threads: int = 4, sessions: int = 50) -> Outcome:
    """``threads`` threads x ``sessions`` sessions on one in-memory engine."""
    engine = heroes_sa.create_engine("sqlite://")
    heroes_sa.upgrade(engine)
    barrier = threading.Barrier(threads)

    def work(worker: int) -> WorkerLog:
        log = WorkerLog()
        barrier.wait(timeout=60)
        log.started = time.time()
        for i in range(sessions):
            name = f"t{worker}-{i}"
            try:
                with Session(engine) as session:
                    hero = Hero(name=name, secret_name="s")
                    session.add(hero)
                    if i % 5 == 4:
                        session.flush()
                        session.rollback()
                        log.rolled_back.append(name)
                        continue
                    session.commit()
                    session.refresh(hero)
                    hero.age = i
                    session.commit()
                log.commits += 2
                log.heroes[name] = (frozenset(), i)
            except Exception as error:  # every failure is the figure: recorded, not raised
                log.errors.append(_error(error))
        log.finished = time.time()
        return log

    with ThreadPoolExecutor(threads) as pool:
        logs = list(pool.map(work, range(threads)))
    outcome = compare(engine, logs)
    engine.dispose()
    return outcome


# -- file-writers --------------------------------------------------------------------


def head_file(path: Path) -> str:
    """A database file at head with :data:`TEAMS` teams; its URL."""
    url = f"sqlite:///{path}"
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine)
    with Session(engine) as session:
        session.add_all(Team(name=f"team-{i}", headquarters="hq") for i in range(TEAMS))
        session.commit()
    engine.dispose()
    return url


def writer(url: str, worker: str, transactions: int, seed: int, barrier: Barrier) -> WorkerLog:
    """Run ``transactions`` read-then-write transactions on ``url``, after ``barrier``."""
    rng = random.Random(seed)
    engine = heroes_sa.create_engine(url)
    log = WorkerLog()
    with Session(engine) as session:
        team_ids = {name: id_ for name, id_ in session.execute(sa.select(Team.name, Team.id))}
    barrier.wait(timeout=120)
    log.started = time.time()
    for n in range(transactions):
        with Session(engine) as session:
            try:
                _one_transaction(session, log, rng, worker, n, team_ids)
            except Exception as error:  # every failure is the figure: recorded, not raised
                session.rollback()
                log.errors.append(_error(error))
    log.finished = time.time()
    engine.dispose()
    return log


def _one_transaction(
    session: Session,
    log: WorkerLog,
    rng: random.Random,
    worker: str,
    n: int,
    team_ids: dict[str, int],
) -> None:
    kind = n % 3 if log.heroes else 0
    if kind == 0:
        # The tutorial's pattern: commit, refresh, write again.
        names = frozenset(rng.sample(sorted(team_ids), 2))
        teams = session.scalars(sa.select(Team).where(Team.name.in_(names))).all()
        hero = Hero(name=f"{worker}-{n}", secret_name=worker, teams=list(teams))
        session.add(hero)
        session.commit()
        session.refresh(hero)
        hero.age = n
        session.commit()
        log.commits += 2
        log.heroes[hero.name] = (names, n)
    elif kind == 1:
        name = rng.choice(sorted(log.heroes))
        hero = session.scalars(sa.select(Hero).where(Hero.name == name)).one()
        team = session.scalars(
            sa.select(Team).where(Team.name == rng.choice(sorted(team_ids)))
        ).one()
        if team in hero.teams:
            hero.teams.remove(team)
        else:
            hero.teams.append(team)
        teams_now = frozenset(t.name for t in hero.teams)
        session.commit()
        log.commits += 1
        log.heroes[name] = (teams_now, log.heroes[name][1])
    else:
        picked = rng.sample(sorted(team_ids), 2)
        heroes = [f"{worker}-{n}-bulk{i}" for i in range(2)]
        bulk_create(
            session,
            heroes=[{"name": name, "secret_name": worker} for name in heroes],
            teams=[team_ids[name] for name in picked],
            memberships=[(0, 0), (0, 1), (1, 1)],
        )
        session.commit()
        log.commits += 1
        log.heroes[heroes[0]] = (frozenset(picked), None)
        log.heroes[heroes[1]] = (frozenset(picked[1:]), None)


def concurrent_writers(
    url: str, threads: int = 3, processes: int = 2, transactions: int = 40
) -> Outcome:
    """``threads`` threads and ``processes`` processes writing to ``url`` at once."""
    spawn = get_context("spawn")
    with (
        spawn.Manager() as manager,
        ThreadPoolExecutor(threads) as thread_pool,
        ProcessPoolExecutor(processes, mp_context=spawn) as process_pool,
    ):
        barrier = manager.Barrier(threads + processes)
        futures: list[Future[WorkerLog]] = [
            thread_pool.submit(writer, url, f"thread{i}", transactions, i, barrier)
            for i in range(threads)
        ] + [
            process_pool.submit(writer, url, f"process{i}", transactions, 100 + i, barrier)
            for i in range(processes)
        ]
        logs = [future.result(timeout=300) for future in futures]
    engine = heroes_sa.create_engine(url)
    try:
        return compare(engine, logs)
    finally:
        engine.dispose()


# -- two-migrations ------------------------------------------------------------------


def one_to_many_file(path: Path, heroes: int) -> list[tuple[int, int]]:
    """A ``0001_one_to_many`` file with ``heroes`` heroes; their (id, team_id) memberships."""
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    heroes_sa.upgrade(engine, one_to_many.REVISION)
    engine.dispose()
    rows = [(i, f"hero-{i}", (i % TEAMS) + 1 if i % 7 else None) for i in range(1, heroes + 1)]
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.executemany(
            "INSERT INTO team (id, name, headquarters) VALUES (?, ?, 'hq')",
            [(i, f"team-{i}") for i in range(1, TEAMS + 1)],
        )
        raw.executemany(
            "INSERT INTO hero (id, name, secret_name, team_id) VALUES (?, ?, 's', ?)", rows
        )
    return [(hero, team) for hero, _, team in rows if team is not None]


#: How each kind of migrator is started: the CLI from a checkout, or the library.
#: Both find the database in ``$HEROES_DATABASE_URL``.
MIGRATORS: Final[dict[str, list[str]]] = {
    "alembic": [sys.executable, "-m", "alembic", "upgrade", "head"],
    "heroes_sa.upgrade": [
        sys.executable,
        "-c",
        "import heroes_sa; heroes_sa.upgrade(heroes_sa.create_engine())",
    ],
}


@dataclass
class MigrationRun:
    """Two migrators started together on one file, and the file they left."""

    returncodes: list[int]
    #: What each migrator printed besides the log lines of alembic.ini's format.
    errors: list[list[str]]
    seconds: float
    revision: str | None
    memberships_kept: bool
    sound: bool


def two_migrations(template: Path, memberships: list[tuple[int, int]], kind: str) -> MigrationRun:
    """Start two migrators of ``kind`` together on a copy of ``template``."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "heroes.db"
        shutil.copy(template, path)
        env = {**os.environ, heroes_sa.engine.URL_ENV_VAR: f"sqlite:///{path}"}
        command = MIGRATORS[kind]
        started = time.perf_counter()
        children = [
            # Alembic prints FAILED: on stdout and its log on stderr.
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        output = [child.communicate(timeout=300)[0] for child in children]
        seconds = time.perf_counter() - started
        with closing(sqlite3.connect(path)) as raw:
            (revision,) = raw.execute("SELECT version_num FROM alembic_version").fetchone()
            links = raw.execute("SELECT hero_id, team_id FROM heroteamlink ORDER BY hero_id")
            kept = links.fetchall() == memberships
            sound = raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)] and not (
                raw.execute("PRAGMA foreign_key_check").fetchall()
            )
        errors = [[line for line in o.splitlines() if not LOG_LINE.match(line)] for o in output]
        return MigrationRun(
            [c.returncode for c in children], errors, seconds, revision, kept, sound
        )


# -- readers -------------------------------------------------------------------------


def readers_beside_a_writer(url: str, readers: int, reads: int, begin: str | None) -> float:
    """Reads per second of ``readers`` threads while one thread keeps writing.

    ``begin`` is the readers' ``sqlite_begin`` option (``None``: the default).
    """
    writer_engine = heroes_sa.create_engine(url)
    options = {} if begin is None else {"sqlite_begin": begin}
    reader_engine = heroes_sa.create_engine(url, execution_options=options)
    done = threading.Event()

    def write() -> None:
        n = 0
        while not done.is_set():
            with Session(writer_engine) as session:
                session.add(Hero(name=f"w{n}", secret_name="w"))
                session.commit()
            n += 1

    def read(_worker: int) -> None:
        for _ in range(reads):
            with Session(reader_engine) as session:
                session.scalar(sa.select(sa.func.count()).select_from(Hero))

    writer = threading.Thread(target=write)
    writer.start()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(readers) as pool:
            list(pool.map(read, range(readers)))
    finally:
        seconds = time.perf_counter() - started
        done.set()
        writer.join()
    writer_engine.dispose()
    reader_engine.dispose()
    return readers * reads / seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Run the workloads and print what each measured."""
    parser = argparse.ArgumentParser(prog="python -m bench.concurrency", description=__doc__)
    parser.add_argument("--heroes", type=int, default=100_000, help="heroes in the migrated file")
    parser.add_argument("--runs", type=int, default=4, help="pairs of migrators per kind")
    args = parser.parse_args(argv)
    print(f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} cores, heroes_sa defaults")
    print(memory_threads().summary("memory-threads"))
    with tempfile.TemporaryDirectory() as scratch:
        url = head_file(Path(scratch) / "writers.db")
        print(concurrent_writers(url).summary("file-writers"))
        template = Path(scratch) / "old.db"
        memberships = one_to_many_file(template, args.heroes)
        for kind in MIGRATORS:
            runs = [two_migrations(template, memberships, kind) for _ in range(args.runs)]
            failed = sum(code != 0 for run in runs for code in run.returncodes)
            whole = all(r.revision == link_model.REVISION and r.memberships_kept for r in runs)
            longest = max((len(lines) for r in runs for lines in r.errors), default=0)
            print(
                f"two-migrations  {kind}: {len(runs)} pairs on {args.heroes} heroes,"
                f" {failed} of {2 * len(runs)} migrators failed (longest error: {longest}"
                f" lines), every file at head with every membership: {whole},"
                f" sound: {all(r.sound for r in runs)}, median pair"
                f" {sorted(r.seconds for r in runs)[len(runs) // 2]:.2f} s"
            )
        reads_url = head_file(Path(scratch) / "readers.db")
        for begin in (None, "DEFERRED"):
            rate = readers_beside_a_writer(reads_url, readers=3, reads=300, begin=begin)
            label = "default (IMMEDIATE)" if begin is None else "sqlite_begin=DEFERRED"
            print(f"readers         3 readers beside a writer, {label}: {rate:.0f} reads/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
