"""``heroes-sa``: the command line, a thin layer over :mod:`heroes_sa.demo` and Alembic.

``heroes-sa db ...`` runs heroes_sa's own migrations from the shell, for a
package installed without a checkout (so without ``alembic.ini``), as
Flask-Migrate's ``flask db`` does: each subcommand hands its arguments to
:mod:`alembic.command` (through :func:`heroes_sa.upgrade` and
:func:`heroes_sa.downgrade` for the two that move the database), on a
connection to the database :func:`heroes_sa.engine.resolve_url` finds for ``--db``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote_plus

from alembic import command
from alembic.util import CommandError
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from heroes_sa.aio import async_url, create_async_engine, run_sync_on
from heroes_sa.demo import DEMOS, run, run_async
from heroes_sa.drivers import describe_location, missing_driver
from heroes_sa.engine import DEFAULT_URL, URL_ENV_VAR, create_engine, is_sqlite_memory, resolve_url
from heroes_sa.errors import HeroesError
from heroes_sa.migration import alembic_config, downgrade, upgrade

#: The demo's default for :func:`~heroes_sa.engine.resolve_url`: a fresh database
#: that vanishes with the process, so trying the demo writes nothing.
DEMO_DEFAULT_URL = "sqlite://"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``heroes-sa``."""
    parser = argparse.ArgumentParser(
        prog="heroes-sa", description="heroes_sa: the SQLModel tutorial on plain SQLAlchemy 2.0"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('heroes_sa')}")
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
    _add_db_commands(commands)
    return parser


#: A ``db`` subcommand: what it does on a connection to the database.
DbAction = Callable[[argparse.Namespace, Connection], None]


def _add_db_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--db",
        metavar="URL",
        help=f"database URL (default: ${URL_ENV_VAR} if set, else {DEFAULT_URL})",
    )
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", help="show more detail")
    db = commands.add_parser(
        "db",
        help="migrate a database with heroes_sa's Alembic history",
        description="heroes_sa's Alembic migrations, run from the shell (no alembic.ini needed)",
    )
    steps = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")

    def step(
        name: str, action: DbAction, summary: str, *parents: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        parser = steps.add_parser(
            name, parents=[database, *parents], help=summary, description=summary
        )
        parser.set_defaults(db_action=action)
        return parser

    step("upgrade", _upgrade, "upgrade to a later revision (default: head)").add_argument(
        "revision", nargs="?", default="head", help="revision id, head or +N"
    )
    step("downgrade", _downgrade, "downgrade to an earlier revision").add_argument(
        "revision", help="revision id, base or -N"
    )
    step("current", _current, "show the database's revision", verbose)
    history = step("history", _history, "list the revisions, newest first", verbose)
    history.add_argument(
        "-i", "--indicate-current", action="store_true", help="mark the database's revision"
    )
    step("stamp", _stamp, "record a revision without running any migration").add_argument(
        "revision", help="revision id or head"
    )
    step("check", _check, "fail if the database differs from head's models")


def _upgrade(args: argparse.Namespace, connection: Connection) -> None:
    upgrade(connection, args.revision)


def _downgrade(args: argparse.Namespace, connection: Connection) -> None:
    downgrade(connection, args.revision)


def _current(args: argparse.Namespace, connection: Connection) -> None:
    command.current(alembic_config(connection), verbose=args.verbose)


def _history(args: argparse.Namespace, connection: Connection) -> None:
    command.history(
        alembic_config(connection), verbose=args.verbose, indicate_current=args.indicate_current
    )


def _stamp(args: argparse.Namespace, connection: Connection) -> None:
    command.stamp(alembic_config(connection), args.revision)


def _check(_args: argparse.Namespace, connection: Connection) -> None:
    command.check(alembic_config(connection))


#: How the alembic CLI's generic ini formats its log lines; ``heroes-sa db`` shows them alike.
ALEMBIC_LOG_FORMAT = "%(levelname)-5.5s [%(name)s] %(message)s"


@contextmanager
def _alembic_log() -> Iterator[None]:
    """Alembic's INFO lines ("Running upgrade ...") on stderr, as the alembic CLI shows them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(ALEMBIC_LOG_FORMAT))
    logger = logging.getLogger("alembic")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _require_database(url: URL) -> None:
    """Refuse a SQLite file that does not exist, which connecting would create empty."""
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url) or url.query.get("uri"):
        return
    path = Path(url.database or "")
    if not path.is_file():
        raise HeroesError(f"no SQLite database at {path}; heroes-sa db upgrade creates one")


def _on_connection(url: URL, action: Callable[[Connection], None]) -> None:
    """Run ``action`` on a connection to ``url``; an async driver's goes through run_sync."""
    if url.get_dialect().is_async:
        run_sync_on(url, action)
        return
    engine = open_engine(url, echo=False)
    try:
        with engine.connect() as connection:
            action(connection)
    finally:
        engine.dispose()


def _run_db(args: argparse.Namespace) -> int:
    """``heroes-sa db COMMAND``; returns the exit status."""
    if args.db_command == "history" and not args.indicate_current:
        # The scripts alone: no database to open.
        command.history(alembic_config(), verbose=args.verbose)
        return 0
    try:
        url = resolve_url(args.db)
    except (ArgumentError, ValueError) as error:
        return fail(f"--db is not a database URL: {error}", status=2)
    action: DbAction = args.db_action
    try:
        if args.db_command != "upgrade":
            _require_database(url)
        with _alembic_log():
            _on_connection(url, lambda connection: action(args, connection))
    except (HeroesError, CommandError, SQLAlchemyError, ImportError, OSError) as error:
        return fail(describe_failure(error, url))
    return 0


def describe_failure(error: BaseException, url: URL) -> str:
    """One line for the user, never holding the URL's password.

    Built, never edited: where the database is comes from the URL rendered
    without its password (:func:`~heroes_sa.drivers.describe_location`), why
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
        raise HeroesError(missing_driver(url, error)) from error


def fail(message: str, status: int = 1) -> int:
    """Print ``message`` as the command's one-line error; return ``status``."""
    print(f"heroes-sa: error: {message}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``heroes-sa`` and ``python -m heroes_sa``; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "db":
        return _run_db(args)
    try:
        url = resolve_url(args.db, default=DEMO_DEFAULT_URL)
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
