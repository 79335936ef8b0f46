"""``heroes-sa``: the command line, a thin layer over :mod:`heroes_sa.demo`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from heroes_sa.aio import async_url, create_async_engine
from heroes_sa.demo import DEMOS, run, run_async
from heroes_sa.engine import (
    DRIVER_EXTRAS,
    URL_ENV_VAR,
    create_engine,
    describe_location,
    is_sqlite_memory,
    resolve_url,
)
from heroes_sa.errors import HeroesError

#: Where the demo runs when neither --db nor $HEROES_DATABASE_URL names a database:
#: a fresh database that vanishes with the process, so trying the demo writes nothing.
DEMO_DEFAULT_URL = "sqlite://"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``heroes-sa``."""
    parser = argparse.ArgumentParser(
        prog="heroes-sa", description="heroes_sa: the SQLModel tutorial on plain SQLAlchemy 2.0"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run one of the tutorial's programs and print what it prints"
    )
    demo.add_argument("name", choices=sorted(DEMOS), help="which tutorial program")
    demo.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (default: ${URL_ENV_VAR} if set, else a fresh in-memory"
        " SQLite database)",
    )
    demo.add_argument("--echo", action="store_true", help="log the SQL sent, as echo=True does")
    demo.add_argument(
        "--async",
        dest="use_async",
        action="store_true",
        help="run the demo through AsyncSession: aiosqlite (heroes_sa[async]), asyncpg"
        " (heroes_sa[asyncpg]) or aiomysql (heroes_sa[aiomysql]), chosen by the URL",
    )
    return parser


def describe_failure(error: Exception, url: URL) -> str:
    """One line for the user; never contains the URL's password."""
    if isinstance(error, OperationalError) and not is_sqlite_memory(url):
        where = describe_location(url)
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"cannot use the database at {where}: {reason}"
    if isinstance(error, SQLAlchemyError):
        return str(error).strip().splitlines()[0]
    return str(error)


def open_engine(url: URL, echo: bool) -> Engine:
    """The engine for ``url``; a missing driver names the extra that installs it."""
    try:
        return create_engine(url, echo=echo)
    except ImportError as error:
        backend = url.get_backend_name()
        hint = ""
        if backend in DRIVER_EXTRAS:
            extra, driver = DRIVER_EXTRAS[backend]
            # A URL naming no driver gets the dialect default: mysql:// is mysqlclient,
            # and postgresql:// is psycopg2 before SQLAlchemy 2.1.
            hint = (
                f"; install it with: pip install 'heroes_sa[{extra}]'"
                if url.get_driver_name() == driver
                else f"; heroes_sa[{extra}] installs {driver}, used by {backend}+{driver}:// URLs"
            )
        raise HeroesError(
            f"the driver for {url.drivername} is not installed ({error}){hint}"
        ) from error


def fail(message: str, url: URL | None = None, status: int = 1) -> int:
    """Print ``message`` as the command's one-line error; return ``status``."""
    if url is not None and url.password:
        message = message.replace(url.password, "***")
    print(f"heroes-sa: error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``heroes-sa`` and ``python -m heroes_sa``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        url = resolve_url(args.db or os.environ.get(URL_ENV_VAR) or DEMO_DEFAULT_URL)
    except (ArgumentError, ValueError) as error:
        # Neither message repeats the string, so no password can leak through it.
        # A malformed argument is a usage error, as argparse's own are (status 2).
        return fail(f"--db is not a database URL: {error}", status=2)
    try:
        if args.use_async:
            asyncio.run(_run_async(args.name, async_url(url), args.echo))
            return 0
        engine = open_engine(url, args.echo)
    except (HeroesError, SQLAlchemyError, ArgumentError, ImportError) as error:
        return fail(describe_failure(error, url), url)
    try:
        run(args.name, engine)
    except (HeroesError, SQLAlchemyError) as error:
        return fail(describe_failure(error, url), url)
    finally:
        engine.dispose()
    return 0


async def _run_async(name: str, url: URL, echo: bool) -> None:
    engine = create_async_engine(url, echo=echo)
    try:
        await run_async(name, engine)
    finally:
        await engine.dispose()
