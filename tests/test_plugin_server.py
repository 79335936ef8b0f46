"""The plugin's database URL option, and its fixtures on a real server.

Each test runs a small test suite of its own through ``pytester``, the way a
user's suite uses the plugin.  The option tests need no server; the server
tests run when this suite itself is given one (``--heroes-db-url`` or
``HEROES_TEST_DATABASE_URL``) and skip, saying so, when it is not.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import one_to_many
from heroes_sa.errors import HeroesError
from heroes_sa.testing import scratch_database
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


def test_a_revision_marker_with_anything_but_one_revision_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.heroes_revision("0001_one_to_many", "0002_many_to_many")
        def test_two_revisions(heroes_engine):
            pass
        """
    )
    result = run_inner(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*heroes_revision takes one revision id*"])


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
