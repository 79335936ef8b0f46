"""What heroes_sa knows about database drivers: one table, read by everything that names one.

For each backend heroes_sa runs on, :data:`BACKENDS` says which sync and
which async driver it uses, the extra of heroes_sa that installs each, and
the port the drivers connect to when a URL names none.  The async engine
picks its default driver here (:func:`async_driver`); the CLI, the pytest
plugin and :mod:`heroes_sa.aio` word their messages with
:func:`missing_driver`, :func:`pip_install` and :func:`describe_location`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.engine import URL


@dataclass(frozen=True)
class Driver:
    """A DBAPI driver, by the name SQLAlchemy gives it in ``backend+name://`` URLs."""

    name: str
    #: The extra of heroes_sa that installs it; None for one that comes with Python.
    extra: str | None


@dataclass(frozen=True)
class Backend:
    """The drivers heroes_sa uses for one backend, and its default port."""

    sync: Driver
    #: Also the driver :func:`heroes_sa.create_async_engine` gives a URL naming none.
    asyncio: Driver
    #: The port the drivers use when a URL names none (None: no server).
    port: int | None


_MYSQL: Final = Backend(Driver("pymysql", "mysql"), Driver("aiomysql", "aiomysql"), 3306)

#: SQLAlchemy backend name -> its drivers.  For MySQL/MariaDB the async one is
#: aiomysql: PyMySQL's protocol code under asyncio, so sync and async code
#: share one pure-Python implementation.
BACKENDS: Final[dict[str, Backend]] = {
    "sqlite": Backend(Driver("pysqlite", None), Driver("aiosqlite", "async"), None),
    "postgresql": Backend(Driver("psycopg", "postgres"), Driver("asyncpg", "asyncpg"), 5432),
    "mysql": _MYSQL,
    "mariadb": _MYSQL,
}


def async_driver(backend: str) -> str | None:
    """The async driver heroes_sa uses for ``backend``, or None for a backend it has none for."""
    known = BACKENDS.get(backend)
    return None if known is None else known.asyncio.name


def extra_of(url: URL) -> str | None:
    """The extra of heroes_sa that installs ``url``'s driver, or None if none does."""
    backend = BACKENDS.get(url.get_backend_name())
    if backend is None:
        return None
    name = url.get_driver_name()
    return next((d.extra for d in (backend.sync, backend.asyncio) if d.name == name), None)


def pip_install(extra: str) -> str:
    """The command that installs heroes_sa with ``extra``, as messages show it."""
    return f"pip install 'heroes_sa[{extra}]'"


def install_hint(url: URL) -> str | None:
    """What to install for ``url``'s driver, for a message saying it is missing.

    The command, when an extra of heroes_sa installs that driver; else, on a
    backend heroes_sa knows, the extra and the URLs that use the driver it
    installs (a URL naming no driver gets SQLAlchemy's default, which is not
    heroes_sa's: ``mysql://`` is mysqlclient, and ``postgresql://`` is
    psycopg2 before SQLAlchemy 2.1); None for any other backend.
    """
    extra = extra_of(url)
    if extra is not None:
        return f"install it with: {pip_install(extra)}"
    backend_name = url.get_backend_name()
    backend = BACKENDS.get(backend_name)
    if backend is None or backend.sync.extra is None:
        return None
    ours = backend.sync
    url_form = f"{backend_name}+{ours.name}://"
    return f"heroes_sa[{ours.extra}] installs {ours.name}, used by {url_form} URLs"


def missing_driver(url: URL, error: ImportError) -> str:
    """One line saying that ``url``'s driver failed to import, and what installs it."""
    hint = install_hint(url)
    said = f"the driver for {url.drivername} is not installed ({error})"
    return said if hint is None else f"{said}; {hint}"


def describe_location(url: URL) -> str:
    """Where ``url`` points, for messages: ``host:port``, never the password.

    A URL with no port gets the backend's default port, which is the one the
    driver tried; one with no host (SQLite) is shown without its password.
    """
    if not url.host:
        return url.render_as_string(hide_password=True)
    backend = BACKENDS.get(url.get_backend_name())
    port = url.port or (None if backend is None else backend.port)
    return f"{url.host}:{port}" if port else url.host
