"""Programs the reliability tests run in other processes.

``python -m tests.workers commit URL N`` adds N heroes with memberships in one
transaction, saying ``FLUSHING`` before the flush and ``COMMITTED`` after;
``python -m tests.workers migrate URL`` upgrades to head, saying ``MIGRATING``.
The tests kill these at random moments.  (The concurrent workloads live in
bench/concurrency.py.)
"""

from __future__ import annotations

import random
import sys

import sqlalchemy as sa
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


if __name__ == "__main__":
    command, url, *rest = sys.argv[1:]
    if command == "commit":
        commit_heroes(url, int(rest[0]))
    elif command == "migrate":
        migrate(url)
    else:
        raise SystemExit(f"unknown command {command!r}")
