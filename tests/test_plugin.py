"""The pytest plugin as a user's test suite meets it: run in a separate pytest."""

from __future__ import annotations

import pytest

DOWNSTREAM_TESTS = """
import pytest
from sqlalchemy import inspect, select
from heroes_sa import link_model, one_to_many
from heroes_sa.many_to_many import Hero, Team

ENGINES = []


def test_commit_inside_the_test(heroes_session, heroes_engine):
    ENGINES.append(heroes_engine)
    heroes_session.add(Hero(name="Deadpond", secret_name="Dive Wilson",
                            teams=[Team(name="Z-Force", headquarters="Bar")]))
    heroes_session.commit()
    heroes_session.add(Hero(name="Ghost", secret_name="Boo"))
    heroes_session.rollback()
    names = heroes_session.scalars(select(Hero.name)).all()
    assert names == ["Deadpond"]


def test_nothing_leaked_from_the_previous_test(heroes_session, heroes_engine):
    ENGINES.append(heroes_engine)
    assert heroes_session.scalars(select(Hero)).all() == []
    assert ENGINES[0] is ENGINES[1], "one engine per revision for the whole session"


@pytest.mark.heroes_revision(one_to_many.REVISION)
def test_marker_moves_the_fixtures_to_a_revision(heroes_session, heroes_revision):
    assert heroes_revision == one_to_many.REVISION
    columns = [c["name"] for c in inspect(heroes_session.connection()).get_columns("hero")]
    assert "team_id" in columns
    heroes_session.add(one_to_many.Hero(name="Rusty-Man", secret_name="Tommy Sharp",
                                        team=one_to_many.Team(name="P", headquarters="S")))
    heroes_session.commit()


def test_head_is_the_default(heroes_session, heroes_revision):
    assert heroes_revision == link_model.REVISION
    assert "heroteamlink" in inspect(heroes_session.connection()).get_table_names()
"""


def test_downstream_suite_gets_isolated_migrated_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM_TESTS)
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.heroes_revision(revision):*"])


def test_a_marker_without_a_revision_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.heroes_revision()
        def test_it(heroes_session):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*heroes_revision takes one revision id*"])


def test_an_unknown_revision_fails_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.heroes_revision("9999_nope")
        def test_it(heroes_session):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*9999_nope*"])


def test_fixtures_can_be_overridden_in_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from heroes_sa import one_to_many

        @pytest.fixture
        def heroes_revision():
            return one_to_many.REVISION
        """
    )
    pytester.makepyfile(
        """
        from heroes_sa import one_to_many

        def test_it(heroes_session):
            heroes_session.add(one_to_many.Hero(name="A", secret_name="B", team_id=None))
            heroes_session.commit()
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)
