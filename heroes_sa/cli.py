"""``heroes-sa``: the command line, a thin layer over :mod:`heroes_sa.demo`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from heroes_sa.aio import async_url, create_async_engine
from heroes_sa.demo import DEMOS, run, run_async
from heroes_sa.engine import URL_ENV_VAR, create_engine, is_sqlite_memory, resolve_url
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
        help="run the demo through AsyncSession (aiosqlite or asyncpg; needs heroes_sa[async])",
    )
    return parser


def describe_failure(error: Exception, url: URL) -> str:
    """One line saying what went wrong; it never contains the URL's password."""
    if isinstance(error, OperationalError) and not is_sqlite_memory(url):
        where = url.render_as_string(hide_password=True)
        if url.host:
            where = f"{url.host}:{url.port}" if url.port else url.host
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "unknown reason"
        message = f"cannot use the database at {where}: {reason}"
    elif isinstance(error, ImportError):
        message = f"no driver for {url.drivername} is installed ({error})"
    else:
        lines = str(error).strip().splitlines()
        message = lines[0] if lines else type(error).__name__
    # Drivers may echo connection parameters back in their messages.
    if url.password:
        message = message.replace(str(url.password), "***")
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``heroes-sa`` and ``python -m heroes_sa``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        url = resolve_url(args.db or os.environ.get(URL_ENV_VAR) or DEMO_DEFAULT_URL)
    except ArgumentError as error:
        print(f"heroes-sa: error: not a database URL: {error}", file=sys.stderr)
        return 2
    try:
        if args.use_async:
            url = async_url(url)
            asyncio.run(_run_async(args.name, url, args.echo))
        else:
            engine = create_engine(url, echo=args.echo)
            try:
                run(args.name, engine)
            finally:
                engine.dispose()
    except (HeroesError, SQLAlchemyError, ImportError) as error:
        print(f"heroes-sa: error: {describe_failure(error, url)}", file=sys.stderr)
        return 1
    return 0


async def _run_async(name: str, url: URL, echo: bool) -> None:
    engine = create_async_engine(url, echo=echo)
    try:
        await run_async(name, engine)
    finally:
        await engine.dispose()
