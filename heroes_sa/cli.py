"""``heroes-sa``: the command line, a thin layer over :mod:`heroes_sa.demo`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from heroes_sa.demo import DEMOS, run
from heroes_sa.engine import create_engine, is_sqlite_memory, resolve_url
from heroes_sa.errors import HeroesError


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
        default="sqlite://",
        help="database URL (default: a fresh in-memory SQLite database)",
    )
    demo.add_argument("--echo", action="store_true", help="log the SQL sent, as echo=True does")
    return parser


def describe_failure(error: Exception, url: URL) -> str:
    """One line for the user; never contains the URL's password."""
    if isinstance(error, OperationalError) and not is_sqlite_memory(url):
        where = url.render_as_string(hide_password=True)
        if url.host:
            where = f"{url.host}:{url.port}" if url.port else url.host
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        return f"cannot use the database at {where}: {reason}"
    if isinstance(error, SQLAlchemyError):
        return str(error).strip().splitlines()[0]
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``heroes-sa`` and ``python -m heroes_sa``; returns the exit status."""
    args = build_parser().parse_args(argv)
    url = resolve_url(args.db)
    engine = create_engine(url, echo=args.echo)
    try:
        run(args.name, engine)
    except (HeroesError, SQLAlchemyError) as error:
        message = describe_failure(error, url)
        if url.password:
            message = message.replace(url.password, "***")
        print(f"heroes-sa: error: {message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0
