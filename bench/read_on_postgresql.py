"""Workload 3 (read every hero with its teams) on PostgreSQL instead of SQLite.

``python bench/read_on_postgresql.py [URL] [HEROES]``: loads HEROES heroes
(default 10,000), each in 2 of 50 teams, into a scratch schema on the server
at URL, then times ``selectinload`` against lazy loading hero by hero (wall
time, median of 3).  On SQLite a lazy load is a function call into the same
process; on a server it is a round trip, which is what ``selectinload`` saves.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session, selectinload

import heroes_sa
from heroes_sa.bulk import bulk_create
from heroes_sa.many_to_many import Hero
from heroes_sa.testing import scratch_database


def load(engine: Engine, heroes: int) -> None:
    rng = random.Random(1)
    with Session(engine) as session:
        bulk_create(
            session,
            teams=[{"name": f"team-{i}", "headquarters": "hq"} for i in range(50)],
            heroes=[{"name": f"hero-{i}", "secret_name": "s"} for i in range(heroes)],
            memberships=[(h, t) for h in range(heroes) for t in rng.sample(range(50), 2)],
        )
        session.commit()


def median_seconds(read: Callable[[], int], expected: int) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        assert read() == expected
        times.append(time.perf_counter() - started)
    return sorted(times)[1]


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    heroes = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    with scratch_database(url) as engine:
        heroes_sa.upgrade(engine)
        load(engine, heroes)

        def eager() -> int:
            with Session(engine) as session:
                found = session.scalars(sa.select(Hero).options(selectinload(Hero.teams)))
                return sum(len(hero.teams) for hero in found)

        def lazy() -> int:
            with Session(engine) as session:
                return sum(len(hero.teams) for hero in session.scalars(sa.select(Hero)))

        fast = median_seconds(eager, 2 * heroes)
        slow = median_seconds(lazy, 2 * heroes)
    print(f"{heroes:,} heroes on {engine.url.get_backend_name()}:")
    print(f"  selectinload {fast:.3f} s, lazy loading {slow:.3f} s: {slow / fast:.1f}x faster")


if __name__ == "__main__":
    main()
