"""pytest hooks of the heroes_sa plugin: the database option, the marker, async fixtures."""

from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from types import ModuleType
from typing import Final

import pytest
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from heroes_sa.drivers import missing_driver
from heroes_sa.errors import HeroesError
from heroes_sa.testing.databases import NAME_PREFIX, backend_of, check_supported

MARKER: Final = "heroes_revision"

#: Command-line flag, ini setting and environment variable naming the test
#: database server; the first one given wins, in that order.
URL_OPTION: Final = "--heroes-db-url"
URL_INI: Final = "heroes_db_url"
URL_ENV_VAR: Final = "HEROES_TEST_DATABASE_URL"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--heroes-db-url`` and the ``heroes_db_url`` ini setting."""
    group = parser.getgroup("heroes_sa", "heroes_sa database fixtures")
    group.addoption(
        URL_OPTION,
        dest=URL_INI,
        metavar="URL",
        default=None,
        help=(
            "run the heroes_sa fixtures on this database server, e.g."
            " postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db;"
            f" they create and drop a schema/database of their own there ({NAME_PREFIX}...)."
            f" Default: ${URL_ENV_VAR}, then the {URL_INI} ini setting, then in-memory SQLite."
            " Drivers: heroes_sa[postgres] or [mysql]; for the async fixtures also"
            " heroes_sa[asyncpg] or [aiomysql]"
        ),
    )
    parser.addini(
        URL_INI,
        help=f"database server URL for the heroes_sa fixtures (see {URL_OPTION})",
        default="",
    )


def _configured(config: pytest.Config) -> tuple[str, URL] | None:
    """Where the test database URL came from and the URL, or None for SQLite."""
    sources = [
        (URL_OPTION, config.getoption(URL_INI)),
        (f"${URL_ENV_VAR}", os.environ.get(URL_ENV_VAR)),
        (f"the {URL_INI} ini setting", config.getini(URL_INI)),
    ]
    for source, raw in sources:
        if not raw:
            continue
        try:
            url = make_url(raw)
            check_supported(url)
        except (ArgumentError, ValueError, HeroesError) as error:
            # Neither message repeats the string, so no password is shown.
            raise _unusable(source, error) from error
        return source, url
    return None


def configured_url(config: pytest.Config) -> URL | None:
    """The test database URL from the flag, the environment or the ini file, else None.

    Raises :class:`pytest.UsageError` for a string that is no URL or names a
    backend the fixtures do not support.
    """
    configured = _configured(config)
    return None if configured is None else configured[1]


def _require_driver(source: str, url: URL) -> None:
    """Raise :class:`pytest.UsageError`, naming the extra, if ``url``'s driver is missing.

    Checked once at start-up: otherwise every test using the fixtures would
    fail on its own with the same ImportError.
    """
    try:
        dialect = url.get_dialect()
    except ArgumentError as error:  # no such driver name
        raise _unusable(source, error) from error
    try:
        dialect.import_dbapi()
    except ImportError as error:
        raise _unusable(source, missing_driver(url, error)) from error


def _unusable(source: str, why: object) -> pytest.UsageError:
    """The usage error for a test database URL from ``source`` that cannot be used."""
    return pytest.UsageError(f"heroes_sa: {source} is not usable: {why}")


#: Name under which the async fixtures (or their stand-ins) are registered.
ASYNC_PLUGIN_NAME = "heroes_sa.testing.async"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``heroes_revision`` marker; reject a bad URL or a missing driver at once.

    Also registers the async fixtures when pytest-asyncio is active, and
    stand-ins that say what to install when it is not.
    """
    config.addinivalue_line(
        "markers",
        f"{MARKER}(revision): run the heroes_sa fixtures at this Alembic revision instead of head",
    )
    configured = _configured(config)
    if configured is not None and backend_of(configured[1]) != "sqlite":
        _require_driver(*configured)
    config.pluginmanager.register(_async_fixtures(config), ASYNC_PLUGIN_NAME)


def pytest_report_header(config: pytest.Config) -> str:
    """Say in the header which database the fixtures run on."""
    url = configured_url(config)
    if url is None or backend_of(url) == "sqlite":
        return "heroes_sa: in-memory SQLite"
    where = url.render_as_string(hide_password=True)
    return f"heroes_sa: {where}, in a {NAME_PREFIX}* namespace per revision, dropped at the end"


def _async_fixtures(config: pytest.Config) -> ModuleType:
    # pytest-asyncio is looked up, never imported: a suite without it must not
    # load it (nor the async drivers) because heroes_sa is installed.  Without
    # greenlet, SQLAlchemy's asyncio extension cannot even be imported.
    asyncio_plugin = sys.modules.get("pytest_asyncio.plugin")
    if (
        asyncio_plugin is not None
        and config.pluginmanager.is_registered(asyncio_plugin)
        and find_spec("greenlet") is not None
    ):
        from heroes_sa.testing import async_fixtures

        return async_fixtures
    from heroes_sa.testing import async_missing

    return async_missing
