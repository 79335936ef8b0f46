"""The plugin as a downstream project gets it: the wheel installed, a suite of its own.

A suite outside the repository, importing heroes_sa from the installed wheel
(:mod:`bench.downstream`), runs under plain pytest, under pytest-randomly
and under pytest-xdist, on the backend this run is given (in-memory SQLite,
or ``--heroes-db-url``'s server), with sync and async tests that each write,
commit and expect to find nothing of the others'.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from string import Template

import pytest
from sqlalchemy.engine import URL

from bench.downstream import downstream_env, installed_wheel
from tests.conftest import backend_under_test

pytestmark = pytest.mark.slow

#: Tests per kind in the inner suite: enough that, shuffled or spread over
#: two workers, writers and readers of one database interleave.
ROUNDS = 6

INI = """
[pytest]
addopts = --strict-markers --strict-config
filterwarnings = error
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""

SUITE = Template("""
import os
import pytest
from sqlalchemy import func, inspect, select
import heroes_sa
from heroes_sa.many_to_many import Hero, Team

COUNT = select(func.count()).select_from(Hero)


def test_heroes_sa_is_the_installed_wheel():
    assert heroes_sa.__file__.startswith(os.environ["HEROES_WHEEL_SITE"]), heroes_sa.__file__


def backend(url):
    name = url.get_backend_name()
    return "mysql" if name == "mariadb" else name


def new_hero(n):
    return Hero(name=f"Hero {n}", secret_name="S", teams=[Team(name="T", headquarters="Q")])


@pytest.mark.parametrize("n", range($rounds))
def test_sync_sees_nothing_of_the_others(heroes_session, heroes_engine, n):
    assert backend(heroes_engine.url) == os.environ["EXPECTED_BACKEND"]
    assert heroes_session.scalar(COUNT) == 0
    heroes_session.add(new_hero(n))
    heroes_session.commit()
    heroes_session.add(Hero(name="Rolled back", secret_name="R"))
    heroes_session.rollback()
    assert heroes_session.scalars(select(Hero.name)).all() == [f"Hero {n}"]


@pytest.mark.parametrize("n", range($rounds))
async def test_async_sees_nothing_of_the_others(heroes_async_session, heroes_async_engine, n):
    assert backend(heroes_async_engine.url) == os.environ["EXPECTED_BACKEND"]
    assert await heroes_async_session.scalar(COUNT) == 0
    heroes_async_session.add(new_hero(n))
    await heroes_async_session.commit()
    assert await heroes_async_session.scalar(COUNT) == 1


@pytest.mark.parametrize("n", range(3))
def test_sync_ids_start_at_1_when_asked(heroes_session, heroes_restart_identities, n):
    hero = new_hero(n)
    heroes_session.add(hero)
    heroes_session.commit()
    assert (hero.id, hero.teams[0].id) == (1, 1)


@pytest.mark.parametrize("n", range(3))
async def test_async_ids_start_at_1_when_asked(heroes_async_session, heroes_restart_identities, n):
    hero = new_hero(n)
    heroes_async_session.add(hero)
    await heroes_async_session.commit()
    assert await hero.awaitable_attrs.id == 1
""").substitute(rounds=ROUNDS)

#: How the suite is run, and what its output shows when it ran that way.
MODES = {
    "plain pytest": ([], "passed"),
    "pytest-randomly": (["-p", "randomly", "-p", "no:cacheprovider"], "randomly-seed="),
    "pytest-xdist": (["-n", "2"], "2 workers"),
}


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    """The directory heroes_sa's wheel is installed in, outside the repository."""
    with installed_wheel() as site:
        yield site


@pytest.mark.parametrize("mode", sorted(MODES))
def test_a_downstream_suite_is_isolated(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    site: Path,
    pytestconfig: pytest.Config,
    heroes_db_url: URL | None,
    mode: str,
) -> None:
    for name, value in downstream_env(site).items():
        monkeypatch.setenv(name, value)
    for name in ("HEROES_TEST_DATABASE_URL", "HEROES_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HEROES_WHEEL_SITE", str(site))
    monkeypatch.setenv("EXPECTED_BACKEND", backend_under_test(pytestconfig))
    pytester.makeini(INI)
    pytester.makepyfile(test_downstream=SUITE)
    args, shown = MODES[mode]
    url = (
        [] if heroes_db_url is None else ["--heroes-db-url", heroes_db_url.render_as_string(False)]
    )

    result = pytester.runpytest_subprocess(*args, *url, timeout=600)

    result.assert_outcomes(passed=1 + 2 * ROUNDS + 2 * 3)
    assert shown in result.stdout.str()
