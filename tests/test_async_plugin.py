"""The plugin's async fixtures: savepoint isolation, the revision marker, and their absence."""

from __future__ import annotations

import sys
import textwrap

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.aio import current_revision_async

INI_ASYNC = """
[pytest]
addopts = --strict-markers --strict-config
filterwarnings = error
asyncio_default_fixture_loop_scope = function
"""

INI_NO_ASYNC = """
[pytest]
addopts = --strict-markers --strict-config
filterwarnings = error
"""


@pytest.mark.asyncio
async def test_heroes_async_session_is_at_head(heroes_async_session: AsyncSession) -> None:
    connection = await heroes_async_session.connection()
    assert await current_revision_async(connection) == link_model.REVISION


@pytest.mark.asyncio
@pytest.mark.heroes_revision(one_to_many.REVISION)
async def test_the_marker_moves_the_async_fixtures_to_a_revision(
    heroes_async_session: AsyncSession,
) -> None:
    connection = await heroes_async_session.connection()
    assert await current_revision_async(connection) == one_to_many.REVISION
    columns = await connection.run_sync(
        lambda sync: {c["name"] for c in inspect(sync).get_columns("hero")}
    )
    assert "team_id" in columns


@pytest.mark.asyncio
@pytest.mark.heroes_revision(one_to_many.REVISION)
async def test_the_marker_moves_the_async_engine_too(heroes_async_engine: AsyncEngine) -> None:
    assert await current_revision_async(heroes_async_engine) == one_to_many.REVISION


@pytest.mark.asyncio
async def test_a_rollback_leaves_the_async_session_usable(
    heroes_async_session: AsyncSession,
) -> None:
    heroes_async_session.add(many_to_many.Hero(name="Deadpond", secret_name="Dive Wilson"))
    await heroes_async_session.commit()
    heroes_async_session.add(many_to_many.HeroTeamLink(team_id=404, hero_id=404))
    # SQLite: "FOREIGN KEY constraint failed"; MariaDB FOREIGN KEY, PostgreSQL "foreign key".
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        await heroes_async_session.flush()
    await heroes_async_session.rollback()
    count = select(func.count()).select_from(many_to_many.Hero)
    assert await heroes_async_session.scalar(count) == 1, "the committed savepoint stays"


def test_each_test_sees_nothing_the_previous_one_wrote(pytester: pytest.Pytester) -> None:
    """Commits land in savepoints that the outer rollback discards.

    The tests run in pytest-asyncio's default per-test loop, while the
    engine lives in the session loop: aiosqlite works from any loop.
    """
    pytester.makeini(INI_ASYNC)
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest
            from sqlalchemy import func, select
            from heroes_sa.many_to_many import Hero, Team

            COUNT = select(func.count()).select_from(Hero)

            @pytest.mark.asyncio
            async def test_writes_and_commits(heroes_async_session):
                team = Team(name="Preventers", headquarters="Sharp Tower")
                heroes_async_session.add(Hero(name="Rusty-Man", secret_name="T", teams=[team]))
                await heroes_async_session.commit()
                assert await heroes_async_session.scalar(COUNT) == 1

            @pytest.mark.asyncio
            async def test_sees_an_empty_database(heroes_async_session):
                assert await heroes_async_session.scalar(COUNT) == 0

            @pytest.mark.asyncio
            @pytest.mark.heroes_revision("0001_one_to_many")
            async def test_at_the_first_revision(heroes_async_session):
                from heroes_sa.one_to_many import Hero as OldHero
                heroes_async_session.add(OldHero(name="Deadpond", secret_name="D"))
                await heroes_async_session.commit()

            @pytest.mark.asyncio
            async def test_head_again_and_still_empty(heroes_async_session):
                assert await heroes_async_session.scalar(COUNT) == 0
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_without_pytest_asyncio_the_fixtures_say_what_to_install(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI_NO_ASYNC)
    pytester.makepyfile(
        textwrap.dedent(
            """
            def test_sync_fixtures_work(heroes_session):
                from sqlalchemy import text
                assert heroes_session.execute(text("SELECT 1")).scalar() == 1

            def test_async_fixture(heroes_async_session):
                pass
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    assert (
        "heroes_async_session needs pytest-asyncio (active: not disabled with -p no:asyncio)"
        " and greenlet: pip install 'heroes_sa[async-testing]'" in result.stdout.str()
    )


def test_a_sync_only_suite_loads_no_async_package(pytester: pytest.Pytester) -> None:
    """Installing heroes_sa must not drag pytest-asyncio or a driver into sync suites."""
    pytester.makeini(INI_NO_ASYNC)
    pytester.makepyfile(
        textwrap.dedent(
            """
            import sys

            def test_sync_fixtures_load_no_async_package(heroes_session):
                from sqlalchemy import text
                assert heroes_session.execute(text("SELECT 1")).scalar() == 1
                loaded = {"pytest_asyncio", "aiosqlite", "asyncpg"} & set(sys.modules)
                assert loaded == set()
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_without_greenlet_the_plugin_still_serves_sync_fixtures(
    pytester: pytest.Pytester,
) -> None:
    """pytest-asyncio installed but not the async extra: sync fixtures, clear stand-ins."""
    pytester.makeini(INI_ASYNC)
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest

            def test_sync_fixtures_work(heroes_session):
                from sqlalchemy import text
                assert heroes_session.execute(text("SELECT 1")).scalar() == 1

            @pytest.mark.asyncio
            async def test_async_fixture(heroes_async_engine):
                pass
            """
        )
    )
    script = textwrap.dedent(
        """
        import sys
        for name in ("greenlet", "aiosqlite", "asyncpg"):
            sys.modules[name] = None  # as if not installed
        import pytest
        raise SystemExit(pytest.main(["-p", "no:cacheprovider"]))
        """
    )
    result = pytester.run(sys.executable, "-c", script, timeout=120)
    result.assert_outcomes(passed=1, errors=1)
    assert "heroes_async_engine needs pytest-asyncio" in result.stdout.str()
