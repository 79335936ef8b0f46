"""Programs the reliability tests run in other processes.

``python -m tests.workers commit URL N`` adds N heroes with memberships in one
transaction, saying ``FLUSHING`` before the flush and ``COMMITTED`` after;
``python -m tests.workers migrate URL`` upgrades to head, saying ``MIGRATING``.
The tests kill these at random moments.  :func:`load_worker` is the body of
one concurrent writer in the load test.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa.many_to_many import Hero, Team


def commit_heroes(url: str, count: int) -> None:
    engine = heroes_sa.create_engine(url)
    with Session(engine) as session:
        teams = session.scalars(sa.select(Team)).all()
        for i in range(count):
            session.add(Hero(name=f"batch-{i}", secret_name="s", teams=random.sample(teams, 2)))
        print("FLUSHING", flush=True)
        session.commit()
    print("COMMITTED", flush=True)


def migrate(url: str) -> None:
    engine = heroes_sa.create_engine(url)
    print("MIGRATING", flush=True)
    heroes_sa.upgrade(engine)
    print("MIGRATED", flush=True)


@dataclass
class WorkerLog:
    """What one worker's committed transactions wrote: the truth to compare with."""

    heroes: dict[str, set[str]] = field(default_factory=dict)
    commits: int = 0
    errors: list[str] = field(default_factory=list)


def load_worker(url: str, worker: str, seconds: float, seed: int) -> WorkerLog:
    """Create heroes and change their memberships until ``seconds`` are up."""
    rng = random.Random(seed)
    engine = heroes_sa.create_engine(url, execution_options={"sqlite_begin": "IMMEDIATE"})
    log = WorkerLog()
    deadline = time.monotonic() + seconds
    counter = 0
    with Session(engine) as session:
        team_names = list(session.scalars(sa.select(Team.name)))
    while time.monotonic() < deadline:
        with Session(engine) as session:
            try:
                if not log.heroes or rng.random() < 0.5:
                    counter += 1
                    name = f"{worker}-{counter}"
                    chosen = set(rng.sample(team_names, 2))
                    teams = session.scalars(sa.select(Team).where(Team.name.in_(chosen))).all()
                    session.add(Hero(name=name, secret_name=worker, teams=list(teams)))
                else:
                    name = rng.choice(sorted(log.heroes))
                    hero = session.scalars(sa.select(Hero).where(Hero.name == name)).one()
                    team = session.scalars(
                        sa.select(Team).where(Team.name == rng.choice(team_names))
                    ).one()
                    if team in hero.teams:
                        hero.teams.remove(team)
                    else:
                        hero.teams.append(team)
                    chosen = {t.name for t in hero.teams}
                session.commit()
            except OperationalError as error:
                session.rollback()
                log.errors.append(str(error.orig))
                continue
        log.heroes[name] = chosen
        log.commits += 1
    engine.dispose()
    return log


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    if command == "commit":
        commit_heroes(url, int(rest[0]))
    elif command == "migrate":
        migrate(url)
    else:
        raise SystemExit(f"unknown command {command!r}")
