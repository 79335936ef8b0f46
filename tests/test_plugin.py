"""heroes_sa's pytest plugin: its fixtures, the heroes_revision marker, the URL option.

Most tests run a small test suite of their own through ``pytester``, the way a
user's suite uses the plugin; the rest use this suite's own fixtures.  The
tests on a server run when this suite itself is given one (``--heroes-db-url``
or ``HEROES_TEST_DATABASE_URL``) and skip, saying so, when it is not.  The
plugin as a downstream project gets it, from the installed wheel:
tests/test_plugin_downstream.py.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import textwrap
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, func, inspect, make_url, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.aio import current_revision_async
from heroes_sa.errors import HeroesError
from heroes_sa.many_to_many import Team
from heroes_sa.testing import record_sql, rolled_back_session, scratch_database
from heroes_sa.testing.databases import (
    NAME_PREFIX,
    DatabaseUnavailableError,
    backend_of,
    scratch_name,
    scratch_url,
)
from heroes_sa.testing.hooks import URL_ENV_VAR

# Drivers are imported here, outside the inner runs: pytester forgets modules
# first imported during an in-process run, and a driver imported a second time
# raises errors of a class the dialect loaded the first time does not know, so
# SQLAlchemy would no longer wrap them.
for _driver in ("psycopg", "pymysql"):
    with contextlib.suppress(ImportError):
        importlib.import_module(_driver)

# Ports nothing listens on, one per place a URL can come from.
FLAG_URL = "postgresql+psycopg://flag:pw-flag@127.0.0.1:1/x"
ENV_URL = "postgresql+psycopg://env:pw-env@127.0.0.1:2/x"
INI_URL = "postgresql+psycopg://ini:pw-ini@127.0.0.1:3/x"

SHOW_URL = """
def test_url(heroes_db_url):
    print("URL:", heroes_db_url and heroes_db_url.render_as_string(hide_password=False))
"""


@pytest.fixture(autouse=True)
def no_url_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner suites see only the URLs each test gives them."""
    monkeypatch.delenv(URL_ENV_VAR, raising=False)


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner suite; without pytest-asyncio, which these inner suites never use."""
    return pytester.runpytest("-p", "no:asyncio", *args)


def ini(url: str) -> str:
    return f"[pytest]\nheroes_db_url = {url}\n"


# --- the database URL option -------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env", "ini_url", "expected"),
    [
        (FLAG_URL, ENV_URL, INI_URL, FLAG_URL),
        (None, ENV_URL, INI_URL, ENV_URL),
        (None, None, INI_URL, INI_URL),
        (None, None, None, "None"),
    ],
)
def test_the_url_comes_from_the_flag_then_the_environment_then_the_ini_file(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    flag: str | None,
    env: str | None,
    ini_url: str | None,
    expected: str,
) -> None:
    pytester.makepyfile(SHOW_URL)
    if ini_url:
        pytester.makeini(ini(ini_url))
    if env:
        monkeypatch.setenv(URL_ENV_VAR, env)
    result = run_inner(pytester, "-s", *(["--heroes-db-url", flag] if flag else []))
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"* URL: {expected}"])


def test_without_a_url_the_fixtures_use_in_memory_sqlite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_engine(heroes_engine):
            assert heroes_engine.url.render_as_string() == "sqlite://"
        """
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["heroes_sa: in-memory SQLite"])


def test_the_header_names_the_server_without_its_password(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SHOW_URL)
    result = run_inner(pytester, "--heroes-db-url", FLAG_URL)
    result.stdout.fnmatch_lines(
        [f"heroes_sa: postgresql+psycopg://flag:***@127.0.0.1:1/x, in a {NAME_PREFIX}*"]
    )
    assert "pw-flag" not in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--heroes-db-url", "not a url"], "heroes_sa: --heroes-db-url is not usable: Could not*"),
        (
            ["--heroes-db-url", "oracle://u:pw-x@db/x"],
            "heroes_sa: --heroes-db-url is not usable: *oracle is none of them",
        ),
    ],
)
def test_a_url_the_fixtures_cannot_use_stops_the_run_at_once(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(SHOW_URL)
    result = run_inner(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])
    assert "pw-x" not in result.stderr.str()


def test_an_unreachable_server_errors_every_test_naming_host_and_port(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("psycopg", reason="the postgres driver extra is not installed")
    pytester.makepyfile(
        """
        def test_one(heroes_session):
            pass

        def test_two(heroes_engine):
            pass
        """
    )
    result = run_inner(pytester, "--heroes-db-url", FLAG_URL)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*cannot reach the test database server at 127.0.0.1:1: *"])
    assert "pw-flag" not in result.stdout.str()


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("mysql+pymysql://u:pw-x@127.0.0.1:1/app", "pymysql", "mysql"),
        ("postgresql+psycopg://u:pw-x@127.0.0.1:1/app", "psycopg", "postgres"),
    ],
)
def test_a_missing_driver_is_one_usage_error_naming_the_extra(
    pytester: pytest.Pytester, url: str, module: str, extra: str
) -> None:
    pytester.makepyfile(
        """
        def test_one(heroes_session):
            pass

        def test_two(heroes_session):
            pass
        """
    )
    script = (
        "import sys\n"
        f"sys.modules[{module!r}] = None  # as if not installed\n"
        "import pytest\n"
        f"raise SystemExit(pytest.main(['-p', 'no:asyncio', '--heroes-db-url', {url!r}]))\n"
    )
    result = pytester.run(sys.executable, "-c", script, timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if "heroes_sa" in line]
    assert len(errors) == 1, result.stderr.str()
    assert f"pip install 'heroes_sa[{extra}]'" in errors[0]
    assert "pw-x" not in result.stderr.str() + result.stdout.str()
    assert "test_one" not in result.stdout.str(), "no test ran"


# --- a user's suite: migrated, isolated fixtures and the revision marker -----------


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


@pytest.mark.parametrize(
    ("marker", "fixture"),
    [
        ("heroes_revision()", "heroes_session"),
        ('heroes_revision("0001_one_to_many", "0002_many_to_many")', "heroes_engine"),
    ],
    ids=["no-revision", "two-revisions"],
)
def test_a_revision_marker_with_anything_but_one_revision_is_a_usage_error(
    pytester: pytest.Pytester, marker: str, fixture: str
) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.{marker}
        def test_it({fixture}):
            pass
        """
    )
    result = run_inner(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*heroes_revision takes one revision id*"])


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


# --- on a server ----------------------------------------------------------------


def list_namespaces(url: URL) -> set[str]:
    """Schemas (PostgreSQL) or databases (MySQL) on the server, as the plugin's admin sees them."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_schema_names())
    finally:
        engine.dispose()


@pytest.fixture
def users_database(server_url: URL) -> Iterator[sa.Engine]:
    """A database that stands for the user's own: it has tables and a hero the plugin must leave."""
    with scratch_database(server_url) as engine:
        heroes_sa.upgrade(engine, one_to_many.REVISION)
        with engine.begin() as connection:
            connection.execute(sa.insert(one_to_many.Hero).values(name="Mine", secret_name="M"))
        yield engine


INNER_SUITE = """
import contextlib
import sys
import importlib
import json
import pytest
from sqlalchemy import func, inspect, select
import heroes_sa
from heroes_sa import one_to_many
from heroes_sa.many_to_many import Hero, Team

def record(engine, revision):
    with engine.connect() as connection:
        name = inspect(connection).default_schema_name
    with open("seen.jsonl", "a") as seen:
        seen.write(json.dumps({"revision": revision, "namespace": name}) + "\\n")

@pytest.mark.parametrize("n", [1, 2, 3])
def test_each_test_starts_empty_and_counts_ids_from_1(
    heroes_session, heroes_engine, heroes_restart_identities, n
):
    record(heroes_engine, "head")
    assert heroes_session.scalar(select(func.count()).select_from(Hero)) == 0
    hero = Hero(name=f"Hero {n}", secret_name="S", teams=[Team(name="T", headquarters="Q")])
    heroes_session.add(hero)
    heroes_session.commit()
    assert (hero.id, hero.teams[0].id) == (1, 1)
    heroes_session.add(Hero(name="Broken", secret_name="B"))
    heroes_session.flush()
    heroes_session.rollback()
    assert heroes_session.scalars(select(Hero.name)).all() == [f"Hero {n}"]

@pytest.mark.heroes_revision(one_to_many.REVISION)
def test_an_older_revision_gets_its_own_namespace(heroes_session, heroes_engine):
    record(heroes_engine, one_to_many.REVISION)
    heroes_session.add(one_to_many.Hero(name="Old", secret_name="O"))
    heroes_session.commit()
    assert heroes_session.scalars(select(one_to_many.Hero.name)).all() == ["Old"]
"""


def test_on_a_server_each_revision_gets_a_namespace_of_its_own_dropped_at_the_end(
    pytester: pytest.Pytester, server_url: URL, users_database: sa.Engine
) -> None:
    before = list_namespaces(server_url)
    pytester.makepyfile(INNER_SUITE)
    users_url = users_database.url.render_as_string(hide_password=False)

    result = run_inner(pytester, "--heroes-db-url", users_url)

    result.assert_outcomes(passed=4)
    seen = [json.loads(line) for line in (pytester.path / "seen.jsonl").read_text().splitlines()]
    namespaces = {s["revision"]: s["namespace"] for s in seen}
    assert len(seen) == 4
    assert len({(s["revision"], s["namespace"]) for s in seen}) == 2, "one per revision"
    assert len(set(namespaces.values())) == 2
    users_namespace = sa.inspect(users_database).default_schema_name
    for namespace in namespaces.values():
        assert namespace.startswith(NAME_PREFIX)
        assert namespace != users_namespace
    # Only this run's own: other runs on a shared server come and go meanwhile.
    assert set(namespaces.values()) & list_namespaces(server_url) == set(), "dropped"
    assert set(namespaces.values()).isdisjoint(before), "and new"
    with Session(users_database) as session:
        assert session.scalars(sa.select(one_to_many.Hero.name)).all() == ["Mine"]
    assert set(sa.inspect(users_database).get_table_names()) == {"alembic_version", "hero", "team"}


def test_on_a_server_the_namespaces_are_dropped_after_a_failing_run(
    pytester: pytest.Pytester, server_url: URL
) -> None:
    before = list_namespaces(server_url)
    pytester.makepyfile(
        """
        from sqlalchemy import inspect

        def test_fails(heroes_session):
            with open("namespace.txt", "w") as out:
                out.write(inspect(heroes_session.connection()).default_schema_name)
            heroes_session.connection().exec_driver_sql("SELECT no_such_column FROM hero")
        """
    )
    result = run_inner(pytester, "--heroes-db-url", server_url.render_as_string(False))
    result.assert_outcomes(failed=1)
    namespace = (pytester.path / "namespace.txt").read_text()
    assert namespace.startswith(NAME_PREFIX)
    assert namespace not in before
    # Only this run's own: other runs on a shared server come and go meanwhile.
    assert namespace not in list_namespaces(server_url)


def test_this_suites_own_fixtures_run_on_the_server(
    server_url: URL, heroes_engine: sa.Engine
) -> None:
    """So the heroes_engine tests of this run really test the server's behaviour."""
    assert backend_of(heroes_engine.url) == backend_of(server_url)
    assert heroes_engine.url.host == server_url.host
    with heroes_engine.connect() as connection:
        namespace = sa.inspect(connection).default_schema_name
    assert namespace is not None
    assert namespace.startswith(NAME_PREFIX)


# --- the namespace helpers, without a server --------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://u:pw@db/app",
            "postgresql+psycopg://u:pw@db/app?options=-csearch_path%3Dheroes_test_ab",
        ),
        (
            "postgresql+psycopg://u:pw@db/app?options=-cstatement_timeout%3D5s",
            "postgresql+psycopg://u:pw@db/app"
            "?options=-cstatement_timeout%3D5s+-csearch_path%3Dheroes_test_ab",
        ),
        (
            "mysql+pymysql://u:pw@db/app?charset=utf8mb4",
            "mysql+pymysql://u:pw@db/heroes_test_ab?charset=utf8mb4",
        ),
    ],
)
def test_scratch_url_moves_into_the_namespace_and_keeps_the_rest(url: str, expected: str) -> None:
    moved = scratch_url(make_url(url), "heroes_test_ab")
    assert moved.render_as_string(hide_password=False) == expected


def test_scratch_names_are_unique_and_carry_the_prefix() -> None:
    names = {scratch_name() for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(NAME_PREFIX) and len(n) == len(NAME_PREFIX) + 12 for n in names)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql+psycopg://u:pw-x@127.0.0.1:1/app", "psycopg"),
        ("mariadb+pymysql://u:pw-x@127.0.0.1:1/app", "pymysql"),
    ],
)
def test_scratch_database_on_an_unreachable_server_names_host_and_port(
    url: str, driver: str
) -> None:
    pytest.importorskip(driver, reason=f"the {driver} driver extra is not installed")
    with (
        pytest.raises(DatabaseUnavailableError, match=r"server at 127\.0\.0\.1:1: ") as raised,
        scratch_database(url),
    ):
        pytest.fail("no database can be handed out")  # pragma: no cover
    assert "pw-x" not in str(raised.value)


def test_scratch_database_refuses_a_backend_the_fixtures_do_not_run_on() -> None:
    with (
        pytest.raises(HeroesError, match="oracle is none of them"),
        scratch_database("oracle://u@db/x"),
    ):
        pytest.fail("no database can be handed out")  # pragma: no cover


# --- the async fixtures --------------------------------------------------------------


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


# --- rolled_back_session: heroes_session's recipe outside pytest fixtures ------------


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
