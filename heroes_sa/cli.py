"""``heroes-sa``: the command line, a thin layer over :mod:`heroes_sa.demo`."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Sequence
from urllib.parse import quote_plus

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
        help="run the demo through AsyncSession (aiosqlite or asyncpg; needs heroes_sa[async])",
    )
    return parser


def describe_failure(error: BaseException, url: URL) -> str:
    """One line for the user, never holding the URL's password.

    Built, never edited: where the database is comes from the URL rendered
    without its password (:func:`~heroes_sa.engine.describe_location`), why
    it failed from the driver's own first line, which is left out whole if
    it repeats the password as a connection string would.
    """
    if isinstance(error, OperationalError | OSError) and not is_sqlite_memory(url):
        reason = getattr(error, "orig", None) or error
        return f"cannot use the database at {describe_location(url)}: {driver_text(reason, url)}"
    if isinstance(error, SQLAlchemyError):
        return driver_text(error, url)
    return str(error)


def driver_text(error: BaseException, url: URL) -> str:
    """The first line of what the driver (or SQLAlchemy) said about ``error``."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    if url.password and repeats_password(text, url.username or "", str(url.password)):
        return f"{type(error).__name__} (its message repeats the password, so it is not shown)"
    return text


def repeats_password(text: str, username: str, password: str) -> bool:
    """True when ``text`` holds ``password`` as a connection string would show it.

    That is ``password=...`` (a DSN), ``:...@`` (a URL) or ``user:...``, with
    the password as it is or URL-quoted: a driver that repeats its connection
    string leaks it that way, while a short password may well occur in
    ordinary words.
    """
    for form in {password, quote_plus(password)}:
        value = re.escape(form)
        end = r"(?=[\s'\"&;,)@/]|$)"
        forms = [rf"password\s*=\s*['\"]?{value}{end}", rf":{value}@"]
        if username:
            forms.append(rf"{re.escape(username)}:{value}{end}")
        if re.search("|".join(forms), text):
            return True
    return False


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


def fail(message: str, status: int = 1) -> int:
    """Print ``message`` as the command's one-line error; return ``status``."""
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
        if url.get_dialect().is_async:
            return fail(
                f"{url.drivername}:// names an async driver, which needs --async"
                f" (or a sync URL such as {url.get_backend_name()}://)"
            )
        engine = open_engine(url, args.echo)
    except (HeroesError, SQLAlchemyError, ImportError, OSError) as error:
        return fail(describe_failure(error, url))
    try:
        run(args.name, engine)
    except (HeroesError, SQLAlchemyError, OSError) as error:
        return fail(describe_failure(error, url))
    finally:
        engine.dispose()
    return 0


async def _run_async(name: str, url: URL, echo: bool) -> None:
    engine = create_async_engine(url, echo=echo)
    try:
        await run_async(name, engine)
    finally:
        await engine.dispose()
