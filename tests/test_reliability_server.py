"""Faults and load on a PostgreSQL server: a lost connection, concurrent writers.

Run in the PostgreSQL pass (``--heroes-db-url`` / ``HEROES_TEST_DATABASE_URL``
naming a PostgreSQL server) and skipped, saying so, elsewhere.  Marked ``slow``.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import heroes_sa
from bench import concurrency
from heroes_sa.many_to_many import Hero, Team

pytestmark = [
    pytest.mark.slow,
    pytest.mark.backends("postgresql", reason="needs a PostgreSQL server to cut off and load"),
]


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    """A scratch database at head with 50 teams, on the server under test."""
    heroes_sa.upgrade(engine)
    with Session(engine) as session:
        session.add_all(Team(name=f"team-{i}", headquarters="hq") for i in range(50))
        session.commit()
    return engine


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_connection_killed_mid_transaction_commits_nothing_and_the_next_session_works(
    migrated: Engine,
) -> None:
    own = heroes_sa.create_engine(url_of(migrated))
    with Session(own) as session:
        teams = session.scalars(sa.select(Team)).all()
        session.add_all(
            Hero(name=f"lost-{i}", secret_name="s", teams=teams[:2]) for i in range(100)
        )
        session.flush()
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with migrated.connect() as killer:
            killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as lost:
            session.commit()
        assert lost.value.connection_invalidated
        session.rollback()

    # The pool still holds connections the server has dropped; pre-ping finds out.
    with Session(own) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Hero)) == 0
        session.add(
            Hero(name="after", secret_name="s", teams=[session.scalars(sa.select(Team)).first()])
        )
        session.commit()
    with migrated.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(Hero)) == 1
    own.dispose()


def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(migrated: Engine) -> None:
    own = heroes_sa.create_engine(url_of(migrated), pool_size=1, max_overflow=0)
    with own.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with migrated.connect() as killer:
        killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    # Without pool_pre_ping this would raise "server closed the connection".
    with own.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    own.dispose()


def test_threads_and_processes_writing_at_once_lose_nothing(
    migrated: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """The SQLite file workload of tests/test_reliability.py, on the server."""
    outcome = concurrency.concurrent_writers(
        url_of(migrated), threads=3, processes=2, transactions=40
    )
    assert outcome.errors == []
    assert outcome.lost == 0
    with capsys.disabled():
        print(f"\n[load] postgresql: {outcome.summary('writers')}")
