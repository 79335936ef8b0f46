"""heroes_sa.aio: the async engine's URL and guarantees, and migrations from async code."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.aio import async_url
from heroes_sa.engine import URL_ENV_VAR
from heroes_sa.errors import MigrationRefusedError
from heroes_sa.testing import record_sql
from tests.async_helpers import (
    driver_coroutine_left_unawaited,
    fresh_async_engine,
    is_missing_greenlet,
)

ROOT = Path(__file__).resolve().parent.parent

COUNT_LINKS = sa.select(sa.func.count()).select_from(many_to_many.HeroTeamLink)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite:///heroes.db", "sqlite+aiosqlite:///heroes.db"),
        ("postgresql://hero@db/heroes", "postgresql+asyncpg://hero@db/heroes"),
        ("mysql://hero@db/heroes", "mysql+aiomysql://hero@db/heroes"),
        ("mariadb://hero@db/heroes", "mariadb+aiomysql://hero@db/heroes"),
        # A URL that names its driver is the caller's choice.
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql+psycopg://hero@db/heroes", "postgresql+psycopg://hero@db/heroes"),
    ],
)
def test_a_url_without_a_driver_gets_the_async_one(given: str, expected: str) -> None:
    assert str(async_url(given)) == expected


def test_the_environment_names_the_async_database_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV_VAR, "sqlite:///from-env.db")
    assert str(async_url()) == "sqlite+aiosqlite:///from-env.db"


def test_a_backend_with_no_default_async_driver_is_refused() -> None:
    with pytest.raises(ArgumentError, match=r"no default async driver for 'mssql'"):
        heroes_sa.create_async_engine("mssql://sa@127.0.0.1/test")


def test_a_sync_driver_is_refused_by_sqlalchemy() -> None:
    with pytest.raises(sa.exc.InvalidRequestError, match="'pysqlite' is not async"):
        heroes_sa.create_async_engine("sqlite+pysqlite://")


@pytest.mark.parametrize(
    ("url", "module", "extra"),
    [
        ("sqlite://", "aiosqlite", "async"),
        ("postgresql://hero@db/heroes", "asyncpg", "asyncpg"),
        ("sqlite://", "greenlet", "async"),
        ("postgresql://hero@db/heroes", "greenlet", "asyncpg"),
        ("mysql://hero@db/heroes", "aiomysql", "aiomysql"),
        ("mariadb://hero@db/heroes", "greenlet", "aiomysql"),
    ],
)
def test_a_missing_module_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, module: str, extra: str
) -> None:
    # None in sys.modules is how Python marks a module as impossible to import.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ModuleNotFoundError, match=rf"needs {module}.*heroes_sa\[{extra}\]"):
        heroes_sa.create_async_engine(url)


@pytest.mark.asyncio
async def test_sqlite_async_engine_enforces_foreign_keys() -> None:
    async with fresh_async_engine(None) as engine, AsyncSession(engine) as session:
        session.add(many_to_many.HeroTeamLink(team_id=41, hero_id=42))
        with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
            await session.commit()
        await session.rollback()
        assert await session.scalar(COUNT_LINKS) == 0


@pytest.mark.asyncio
async def test_sqlite_async_engine_rolls_back_ddl_and_released_savepoints() -> None:
    """aiosqlite left as it is would commit the CREATE TABLE and the savepoint."""
    async with fresh_async_engine(None, revision=None) as engine:
        async with engine.connect() as connection:
            await connection.begin()
            await connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
            await connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
            async with connection.begin_nested():
                await connection.exec_driver_sql("INSERT INTO scratch VALUES (2)")
            await connection.rollback()
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert tables == []


@pytest.mark.asyncio
async def test_an_async_engine_writes_nothing_by_connecting_and_its_migration_sets_wal(
    tmp_path: Path,
) -> None:
    async def mode_after(name: str, migrate: bool, **kwargs: bool) -> str:
        engine = heroes_sa.create_async_engine(f"sqlite:///{tmp_path / name}", **kwargs)
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
        if migrate:
            await heroes_sa.upgrade_async(engine)
        await engine.dispose()
        with closing(sqlite3.connect(tmp_path / name)) as raw:
            mode: str = raw.execute("PRAGMA journal_mode").fetchone()[0]
        return mode

    assert await mode_after("opened.db", migrate=False) == "delete"
    assert await mode_after("migrated.db", migrate=True) == "wal"
    assert await mode_after("opt-in.db", migrate=False, sqlite_wal=True) == "wal"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("mode", "sent"), [("IMMEDIATE", "BEGIN IMMEDIATE"), ("DEFERRED", "BEGIN")]
)
async def test_sqlite_begin_execution_option_works_under_asyncio(
    tmp_path: Path, mode: str, sent: str
) -> None:
    engine = heroes_sa.create_async_engine(
        f"sqlite:///{tmp_path / 'begin.db'}", execution_options={"sqlite_begin": mode}
    )
    with record_sql(engine) as seen:
        async with engine.begin() as connection:
            await connection.exec_driver_sql("SELECT 1")
    await engine.dispose()
    assert seen.statements[0].sql == sent


def test_async_server_engines_ping_connections_before_use() -> None:
    engine = heroes_sa.create_async_engine("postgresql://u:pw@127.0.0.1:1/db")
    assert engine.sync_engine.pool._pre_ping
    assert heroes_sa.create_async_engine("sqlite://").sync_engine.pool._pre_ping is False


@pytest.mark.asyncio
async def test_an_in_memory_async_engine_is_one_database_for_every_connection() -> None:
    async with fresh_async_engine(None, revision=None) as engine:
        async with engine.begin() as first:
            await first.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        async with engine.connect() as second:
            assert (await second.exec_driver_sql("SELECT count(*) FROM t")).scalar() == 0


@contextmanager
def pool_log_without_tracebacks() -> Iterator[None]:
    """Drop the traceback from what the pool logs about the connection it discards.

    The pool logs the failed reset with its traceback, and pytest's log
    capture keeps the record to the end of the run, and with it the driver
    coroutine that :func:`driver_coroutine_left_unawaited` must see collected.
    """

    def strip(record: logging.LogRecord) -> bool:
        record.exc_info = None
        return True

    pool_logger = logging.getLogger("sqlalchemy.pool.impl.AsyncAdaptedQueuePool")
    pool_logger.addFilter(strip)
    try:
        yield
    finally:
        pool_logger.removeFilter(strip)


@pytest.mark.asyncio
async def test_an_in_memory_async_database_outlives_a_connection_lost_to_missing_greenlet() -> None:
    """The pool discards a connection it cannot roll back; the data must stay.

    Touching an expired attribute after a commit makes SQLAlchemy begin a
    transaction outside an await; it refuses (MissingGreenlet) and the pool
    drops that connection, which on a one-connection in-memory database
    took every table with it.
    """
    with driver_coroutine_left_unawaited(), pool_log_without_tracebacks():
        async with fresh_async_engine(None) as engine:
            async with AsyncSession(engine) as session:
                hero = many_to_many.Hero(name="Deadpond", secret_name="Dive Wilson")
                session.add(hero)
                await session.commit()
                with pytest.raises(sa.exc.StatementError) as raised:
                    _ = hero.name
                assert is_missing_greenlet(raised.value), repr(raised.value)
                del raised
            async with AsyncSession(engine) as session:
                names = (await session.scalars(sa.select(many_to_many.Hero.name))).all()
    assert names == ["Deadpond"]


@pytest.mark.asyncio
async def test_upgrade_and_downgrade_from_async_code(async_backend: URL | None) -> None:
    async with fresh_async_engine(async_backend, revision=None) as engine:
        assert await heroes_sa.current_revision_async(engine) is None
        await heroes_sa.upgrade_async(engine, one_to_many.REVISION)
        assert await heroes_sa.current_revision_async(engine) == one_to_many.REVISION
        async with AsyncSession(engine) as session:
            preventers = one_to_many.Team(name="Preventers", headquarters="Sharp Tower")
            session.add(one_to_many.Hero(name="Rusty-Man", secret_name="Tommy", team=preventers))
            await session.commit()

        await heroes_sa.upgrade_async(engine)
        assert await heroes_sa.current_revision_async(engine) == link_model.REVISION
        async with AsyncSession(engine) as session:
            hero = await session.scalar(sa.select(many_to_many.Hero))
            assert hero is not None
            assert [t.name for t in await hero.awaitable_attrs.teams] == ["Preventers"]

        await heroes_sa.downgrade_async(engine, "base")
        assert await heroes_sa.current_revision_async(engine) is None


@pytest.mark.asyncio
async def test_a_refused_downgrade_reaches_async_code_and_changes_nothing(
    async_backend: URL | None,
) -> None:
    async with fresh_async_engine(async_backend) as engine:
        async with AsyncSession(engine) as session:
            session.add(
                many_to_many.Hero(
                    name="Deadpond",
                    secret_name="Dive Wilson",
                    teams=[
                        many_to_many.Team(name="Z-Force", headquarters="Bar"),
                        many_to_many.Team(name="Preventers", headquarters="Sharp Tower"),
                    ],
                )
            )
            await session.commit()
        with pytest.raises(MigrationRefusedError, match="Deadpond"):
            await heroes_sa.downgrade_async(engine, one_to_many.REVISION)
        assert await heroes_sa.current_revision_async(engine) == link_model.REVISION
        async with AsyncSession(engine) as session:
            assert await session.scalar(COUNT_LINKS) == 2


@pytest.mark.asyncio
async def test_an_idle_async_connection_is_migrated_and_committed(
    async_backend: URL | None,
) -> None:
    async with fresh_async_engine(async_backend, revision=None) as engine:
        async with engine.connect() as connection:
            await heroes_sa.upgrade_async(connection, one_to_many.REVISION)
            assert not connection.in_transaction()
        assert await heroes_sa.current_revision_async(engine) == one_to_many.REVISION


@pytest.mark.asyncio
@pytest.mark.backends(
    "postgresql",
    reason="SQLite needs foreign keys off first (tests/test_migrations.py covers that for"
    " sync code), and MySQL commits DDL implicitly",
)
async def test_an_async_connection_in_a_transaction_is_migrated_inside_it(
    server_url: URL,
) -> None:
    """As with a sync Connection: the caller's transaction, so the caller's rollback."""
    async with fresh_async_engine(server_url, revision=None) as engine:
        async with engine.connect() as connection:
            await connection.begin()
            await heroes_sa.upgrade_async(connection, one_to_many.REVISION)
            assert await heroes_sa.current_revision_async(connection) == one_to_many.REVISION
            await connection.rollback()
        assert await heroes_sa.current_revision_async(engine) is None


def test_alembic_cli_migrates_an_async_url(tmp_path: Path) -> None:
    database = tmp_path / "async.db"
    env = {**os.environ, URL_ENV_VAR: f"sqlite+aiosqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    engine = heroes_sa.create_engine(f"sqlite:///{database}")
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()


def test_sync_code_needs_none_of_the_async_packages(tmp_path: Path) -> None:
    """Without greenlet, aiosqlite, asyncpg and pytest-asyncio, the sync path works."""
    script = textwrap.dedent(
        """
        import sys
        for name in ("greenlet", "aiosqlite", "asyncpg", "pytest_asyncio"):
            sys.modules[name] = None  # as if not installed
        import heroes_sa
        from heroes_sa.cli import main
        assert main(["demo", "many-to-many"]) == 0
        try:
            heroes_sa.create_async_engine("sqlite://")
        except ModuleNotFoundError as error:
            print("async:", error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Deadpond: Hero(id=1, name='Deadpond', secret_name='Dive Wilson', age=None)"
    assert lines[-1] == (
        "async: heroes_sa's async support needs greenlet, which is not installed:"
        " pip install 'heroes_sa[async]'"
    )
