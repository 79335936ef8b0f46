"""heroes_sa as users get it: the alembic CLI from a checkout, and an installed wheel.

The wheel is installed into a directory of its own outside the repository
(no alembic.ini, no migrations/ around) and run from another: ``heroes-sa
db`` and ``alembic -c`` with a minimal ini on a real database of the backend
under test, and a downstream project running pytest-alembic's tests with the
conftest.py README shows.
"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

import heroes_sa
from bench.downstream import build_wheel, install_wheel
from heroes_sa import link_model, one_to_many
from heroes_sa.testing.databases import backend_of
from tests.conftest import backend_under_test
from tests.migration_helpers import HISTORY, RUNNING_UPGRADES, alembic_log, empty_database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
PACKAGING_ONLY = pytest.mark.backends("sqlite", reason="packaging does not depend on the backend")

# Each run below names its database itself; none inherits one from outside.
_DATABASE_VARIABLES = ("HEROES_DATABASE_URL", "HEROES_TEST_DATABASE_URL")


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in _DATABASE_VARIABLES}
    return subprocess.run(
        args,
        cwd=cwd,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def alembic(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), *args], cwd, **env
    )


@PACKAGING_ONLY
def test_alembic_cli_creates_database_db_and_finds_no_drift(tmp_path: Path) -> None:
    upgraded = alembic("upgrade", "head", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = heroes_sa.create_engine(f"sqlite:///{tmp_path / 'database.db'}")
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()
    checked = alembic("check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


@PACKAGING_ONLY
def test_alembic_cli_follows_heroes_database_url(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.db"
    result = alembic(
        "upgrade", one_to_many.REVISION, cwd=tmp_path, HEROES_DATABASE_URL=f"sqlite:///{target}"
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "database.db").exists()
    engine = heroes_sa.create_engine(f"sqlite:///{target}")
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    engine.dispose()


@PACKAGING_ONLY
def test_alembic_cli_reports_a_refused_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO team (name, headquarters) VALUES ('A', 'a'), ('B', 'b')"
        )
        connection.exec_driver_sql("INSERT INTO hero (name, secret_name) VALUES ('Deadpond', 'D')")
        connection.exec_driver_sql(
            "INSERT INTO heroteamlink (team_id, hero_id) VALUES (1, 1), (2, 1)"
        )
    # Three revisions down: the refusal of 0002 must come before any later step.
    result = alembic("downgrade", one_to_many.REVISION, cwd=tmp_path, HEROES_DATABASE_URL=url)
    assert result.returncode != 0
    # One line, as Alembic prints its own errors, not a traceback.
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("FAILED: cannot downgrade below 0002_many_to_many")
    assert "hero 1 'Deadpond' (2 teams)" in result.stdout
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@PACKAGING_ONLY
def test_the_wheel_carries_the_migration_scripts_and_the_plugin(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        declared = archive.read(entry_points).decode()
    assert "heroes_sa/_migrations/env.py" in names
    assert "heroes_sa/_migrations/versions/0001_one_to_many.py" in names
    assert "heroes_sa/_migrations/versions/0002_many_to_many.py" in names
    assert "heroes_sa/py.typed" in names
    assert "heroes_sa = heroes_sa.testing" in declared
    assert "heroes-sa = heroes_sa.cli:main" in declared


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a directory of its own, put first on PYTHONPATH by runs below.

    The interpreter's own site-packages still supplies SQLAlchemy, Alembic,
    the drivers, pytest and pytest-alembic.
    """
    target = tmp_path_factory.mktemp("site")
    install_wheel(wheel, target)
    return target


def installed(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``args`` against the installed wheel: heroes_sa from ``site``, not the checkout.

    -I would drop PYTHONPATH too; -s keeps user site-packages out.
    """
    return run(args, cwd, PYTHONPATH=str(site))


def heroes_sa_cli(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``heroes-sa ARGS``, the console script pip installed with the wheel."""
    return installed([str(site / "bin" / "heroes-sa"), *args], site, cwd)


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """Where the user runs commands: outside the repository, no alembic.ini."""
    directory = tmp_path / "project"
    directory.mkdir()
    assert not (directory / "alembic.ini").exists()
    return directory


@pytest.fixture
def db_url(heroes_db_url: URL | None, user_dir: Path) -> Iterator[str]:
    """A new, empty database on the backend under test."""
    with empty_database_url(heroes_db_url, user_dir) as url:
        yield url


@PACKAGING_ONLY
def test_an_installed_wheel_migrates_without_the_checkout_or_pytest(
    site: Path, tmp_path: Path
) -> None:
    script = (
        "import sys\n"
        "sys.modules['pytest'] = None  # as if not installed: imports of it fail\n"
        "import heroes_sa, heroes_sa.cli, heroes_sa.migration as m\n"
        f"assert heroes_sa.__file__.startswith({str(site)!r}), heroes_sa.__file__\n"
        "print(m.script_location())\n"
        "engine = heroes_sa.create_engine('sqlite://')\n"
        "heroes_sa.upgrade(engine)\n"
        "print(heroes_sa.current_revision(engine))\n"
        "sys.exit(heroes_sa.cli.main(['demo', 'one-to-many']))\n"
    )
    result = installed([sys.executable, "-s", "-c", script], site, tmp_path)
    assert result.returncode == 0, result.stderr
    location, revision, *demo = result.stdout.splitlines()
    assert location == str(site / "heroes_sa" / "_migrations")
    assert revision == link_model.REVISION
    assert len(demo) == 8


def test_the_installed_db_commands_migrate_inspect_and_check(
    site: Path, user_dir: Path, db_url: str
) -> None:
    """What README's section for the installed package shows, on a real database."""
    upgraded = heroes_sa_cli(site, user_dir, "db", "upgrade", "--db", db_url)
    assert (upgraded.returncode, upgraded.stdout) == (0, ""), upgraded.stderr
    assert alembic_log(upgraded.stderr) == RUNNING_UPGRADES

    current = heroes_sa_cli(site, user_dir, "db", "current", "--verbose", "--db", db_url)
    assert current.returncode == 0, current.stderr
    # The installed scripts ran, not the checkout's.
    assert f"Path: {site / 'heroes_sa' / '_migrations' / 'versions'}" in current.stdout
    current = heroes_sa_cli(site, user_dir, "db", "current", "--db", db_url)
    assert current.stdout == f"{link_model.REVISION} (head)\n"

    history = heroes_sa_cli(site, user_dir, "db", "history")
    assert (history.returncode, history.stdout.splitlines()) == (0, HISTORY)
    checked = heroes_sa_cli(site, user_dir, "db", "check", "--db", db_url)
    assert (checked.returncode, checked.stdout) == (0, "No new upgrade operations detected.\n")

    refused = heroes_sa_cli(site, user_dir, "db", "upgrade", "base", "--db", db_url)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        "heroes-sa: error: cannot upgrade to base: it is below the database's revision"
        f" {link_model.REVISION}; use downgrade to go down"
    )
    down = heroes_sa_cli(site, user_dir, "db", "downgrade", "base", "--db", db_url)
    assert down.returncode == 0, down.stderr
    assert len(alembic_log(down.stderr)) == 4
    assert heroes_sa_cli(site, user_dir, "db", "current", "--db", db_url).stdout == ""


@PACKAGING_ONLY
def test_the_installed_db_commands_default_to_database_db(site: Path, user_dir: Path) -> None:
    shown = heroes_sa_cli(site, user_dir, "--version")
    assert shown.stdout == f"heroes-sa {version('heroes_sa')}\n"
    assert heroes_sa_cli(site, user_dir, "db", "upgrade").returncode == 0
    engine = heroes_sa.create_engine(f"sqlite:///{user_dir / 'database.db'}")
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()


#: An ini file with only what Alembic needs, for the installed scripts.
MINIMAL_INI = """\
[alembic]
script_location = heroes_sa:_migrations
sqlalchemy.url = {url}
"""

#: The logging sections of Alembic's generic ini, which env.py then applies.
LOGGING_SECTIONS = """
[loggers]
keys = root,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def test_alembic_runs_the_installed_scripts_from_a_minimal_ini(
    site: Path, user_dir: Path, db_url: str
) -> None:
    ini = user_dir / "migrations.ini"
    # configparser interpolates %: a URL's own percent signs must be doubled.
    ini.write_text(MINIMAL_INI.format(url=db_url.replace("%", "%%")))
    alembic = [sys.executable, "-s", "-m", "alembic", "-c", str(ini)]

    upgraded = installed([*alembic, "upgrade", "head"], site, user_dir)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Traceback" not in upgraded.stderr
    current = installed([*alembic, "current"], site, user_dir)
    assert current.stdout == f"{link_model.REVISION} (head)\n", current.stderr

    # With logging sections, env.py configures logging from them, as the CLI's generic ini does.
    ini.write_text(ini.read_text() + LOGGING_SECTIONS)
    down = installed([*alembic, "downgrade", "-1"], site, user_dir)
    assert down.returncode == 0, down.stderr
    assert alembic_log(down.stderr) == [
        "INFO  [alembic.runtime.migration] Running downgrade 0004_link_is_training ->"
        " 0003_link_hero_id_index, Give each membership an is_training flag: the tutorial's"
        " link model with extra fields."
    ]


@PACKAGING_ONLY
def test_pytest_is_an_extra_not_a_dependency(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = email.message_from_bytes(archive.read(metadata)).get_all("Requires-Dist", [])
    assert sorted(r for r in requires if ";" not in r) == ["alembic>=1.13", "sqlalchemy<3,>=2.0"]
    assert "pytest>=8; extra == 'testing'" in requires


def readme_conftest() -> str:
    """The downstream conftest.py README shows for pytest-alembic, as it is there."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"```python\n(# tests/conftest\.py\n.*?)```", readme, re.DOTALL)
    assert match, "README shows no tests/conftest.py for pytest-alembic"
    return match.group(1)


#: A SQLite file instead of the conftest's in-memory database.
FILE_ENGINE = """

@pytest.fixture
def alembic_engine(tmp_path):
    import heroes_sa

    engine = heroes_sa.create_engine(f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()
"""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The downstream project runs on SQLite in memory and on a file, or on the server."""
    if "downstream_database" in metafunc.fixturenames:
        on_sqlite = backend_under_test(metafunc.config) == "sqlite"
        metafunc.parametrize("downstream_database", ["memory", "file"] if on_sqlite else ["server"])


def test_a_downstream_project_passes_pytest_alembics_tests(
    site: Path, user_dir: Path, heroes_db_url: URL | None, downstream_database: str
) -> None:
    """pytest --test-alembic, set up as README and pytest-alembic's docs say.

    On a server the database is a namespace of its own there; MariaDB cannot
    roll DDL back, so the experimental test_downgrade_leaves_no_trace is left
    out there.
    """
    tests = user_dir / "tests"
    tests.mkdir()
    conftest = readme_conftest() + (FILE_ENGINE if downstream_database == "file" else "")
    (tests / "conftest.py").write_text(conftest)
    transactional = heroes_db_url is None or backend_of(heroes_db_url) != "mysql"
    (user_dir / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        + (
            'pytest_alembic_include_experimental = "downgrade_leaves_no_trace"\n'
            if transactional
            else ""
        )
    )
    args = [sys.executable, "-s", "-m", "pytest", "--test-alembic", "-p", "no:cacheprovider", "-v"]
    if downstream_database == "server":
        assert heroes_db_url is not None
        args += ["--heroes-db-url", heroes_db_url.render_as_string(hide_password=False)]
    result = installed(args, site, user_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = sorted(re.findall(r"::(\w+) PASSED", result.stdout))
    expected = [
        "test_model_definitions_match_ddl",
        "test_single_head_revision",
        "test_up_down_consistency",
        "test_upgrade",
    ]
    if transactional:
        expected = sorted([*expected, "test_downgrade_leaves_no_trace"])
    assert passed == expected, result.stdout
    assert f"rootdir: {user_dir}" in result.stdout
