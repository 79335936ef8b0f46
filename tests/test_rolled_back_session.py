"""heroes_sa.testing.rolled_back_session: heroes_session's recipe outside pytest fixtures."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from heroes_sa.many_to_many import Team
from heroes_sa.testing import rolled_back_session


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
