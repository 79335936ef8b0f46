"""heroes_sa.testing.rolled_back_session: heroes_session's recipe outside pytest fixtures."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from heroes_sa.many_to_many import Team
from heroes_sa.testing import record_sql, rolled_back_session


def teams(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Team)) or 0


def test_commits_inside_are_undone_at_the_end(heroes_engine: Engine) -> None:
    with rolled_back_session(heroes_engine) as session:
        session.add(Team(name="Preventers", headquarters="Sharp Tower"))
        session.commit()
        session.add(Team(name="Z-Force", headquarters="Sister Margaret's Bar"))
        session.rollback()
        # The code under test's own rollback undid only its own work.
        assert teams(session) == 1
    with Session(heroes_engine) as session:
        assert teams(session) == 0


def failing_test(engine: Engine) -> None:
    with rolled_back_session(engine) as session:
        session.add(Team(name="Preventers", headquarters="Sharp Tower"))
        session.commit()
        raise LookupError("the test failed")


def test_an_exception_in_the_block_still_rolls_back(heroes_engine: Engine) -> None:
    with pytest.raises(LookupError, match="the test failed"):
        failing_test(heroes_engine)
    with Session(heroes_engine) as session:
        assert teams(session) == 0


#: What a server's id-counter restart sends (PostgreSQL, MySQL/MariaDB).
RESTARTS = ("setval", "AUTO_INCREMENT")


@pytest.mark.parametrize("restart", [False, True])
def test_ids_are_restarted_only_when_asked(heroes_engine: Engine, restart: bool) -> None:
    """Each test pays for the restart (DDL on MySQL) only if it asks for it."""
    with rolled_back_session(heroes_engine) as session:
        first = Team(name="Preventers", headquarters="Sharp Tower")
        session.add(first)
        session.commit()
        first_id = first.id
    with (
        record_sql(heroes_engine) as recorded,
        rolled_back_session(heroes_engine, restart_identities=restart) as session,
    ):
        team = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add(team)
        session.commit()
        team_id = team.id
    sent = " ".join(s.sql for s in recorded.statements)
    on_a_server = heroes_engine.dialect.name != "sqlite"
    assert any(word in sent for word in RESTARTS) == (restart and on_a_server)
    # SQLite gives a rolled-back id out again by itself; a server only when restarted.
    assert team_id == (1 if restart else first_id if not on_a_server else first_id + 1)
