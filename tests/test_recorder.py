"""heroes_sa.testing.record_sql: the statements an Engine or AsyncEngine sends."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa.many_to_many import Hero, Team
from heroes_sa.testing import RecordedStatement, async_scratch_database, record_sql


def test_records_sql_parameters_and_verbs_of_one_engine() -> None:
    engine = heroes_sa.create_engine("sqlite://")
    other = heroes_sa.create_engine("sqlite://")
    with record_sql(engine) as recorded:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT :x"), {"x": 1})
        with other.connect() as connection:
            connection.execute(sa.text("SELECT 2"))
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 3"))
    engine.dispose()
    other.dispose()
    # heroes_sa's SQLite engine sends its own BEGIN first: transaction control.
    assert [s.verb for s in recorded.statements] == ["BEGIN", "SELECT"]
    assert recorded.dml() == [RecordedStatement("SELECT ?", (1,), False)]
    assert recorded.selects() == recorded.dml()


def test_a_failing_statement_is_recorded_too() -> None:
    engine = heroes_sa.create_engine("sqlite://")
    with (
        record_sql(engine) as recorded,
        engine.connect() as connection,
        pytest.raises(sa.exc.OperationalError),
    ):
        connection.exec_driver_sql("SELECT * FROM no_such_table")
    engine.dispose()
    assert [s.sql for s in recorded.dml()] == ["SELECT * FROM no_such_table"]


def test_include_leaves_out_the_connections_it_refuses() -> None:
    engine = heroes_sa.create_engine("sqlite://")
    with record_sql(
        engine, include=lambda c: not c.get_execution_options().get("quiet")
    ) as recorded:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        with engine.connect().execution_options(quiet=True) as connection:
            connection.exec_driver_sql("SELECT 2")
    engine.dispose()
    assert [s.sql for s in recorded.dml()] == ["SELECT 1"]


def test_an_unknown_paramstyle_is_refused_up_front() -> None:
    engine = heroes_sa.create_engine("sqlite://", paramstyle="named")
    with pytest.raises(ValueError, match="cannot rewrite the 'named' paramstyle"):
        record_sql(engine, qmark=True).__enter__()
    engine.dispose()


def insert_two_heroes(bind: Engine | Connection) -> None:
    with Session(bind) as session:
        session.add_all(
            [
                Hero(
                    name="Deadpond",
                    secret_name="Dive Wilson",
                    teams=[Team(name="Z", headquarters="B")],
                ),
                Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48),
            ]
        )
        session.flush()
        session.rollback()


SQLITE_FORM = [
    (
        "INSERT INTO hero (name, secret_name, age) VALUES (?, ?, ?)",
        ("Deadpond", "Dive Wilson", None),
    ),
    (
        "INSERT INTO hero (name, secret_name, age) VALUES (?, ?, ?)",
        ("Rusty-Man", "Tommy Sharp", 48),
    ),
]


def assert_sqlite_form(heroes: list[RecordedStatement]) -> None:
    """One entry per row, positional parameters, ``?`` placeholders and no driver's.

    A server's paged insert may be written as INSERT ... SELECT ... FROM
    (VALUES ...) with RETURNING (PostgreSQL): its text is not SQLite's, its
    rows and parameters are.
    """
    assert [s.parameters[:3] for s in heroes] == [row for _, row in SQLITE_FORM]
    for statement in heroes:
        assert statement.sql.startswith("INSERT INTO hero (name, secret_name, age) ")
        assert "?" in statement.sql
        assert not re.search(r"%\(|%s|\$\d", statement.sql), statement.sql


def test_qmark_form_is_what_sqlite_receives_on_every_backend(heroes_engine: Engine) -> None:
    """One paged INSERT on a server, two on SQLite: recorded as SQLite's two."""
    with record_sql(heroes_engine, qmark=True) as recorded:
        insert_two_heroes(heroes_engine)
    heroes = [s for s in recorded.dml() if s.table == "hero"]
    # The servers add RETURNING hero.id (and a sort key); the rows are the same.
    assert_sqlite_form(heroes)


@pytest.mark.parametrize("paramstyle", ["format", "pyformat"])
def test_qmark_form_from_the_percent_paramstyles(server_url: URL, paramstyle: str) -> None:
    if server_url.get_backend_name() not in ("mysql", "mariadb"):
        pytest.skip("PyMySQL takes both percent styles; psycopg's pyformat runs everywhere else")
    from heroes_sa.testing import scratch_database

    with scratch_database(server_url, paramstyle=paramstyle) as engine:
        heroes_sa.upgrade(engine)
        with record_sql(engine, qmark=True) as recorded:
            insert_two_heroes(engine)
    heroes = [s for s in recorded.dml() if s.table == "hero"]
    assert_sqlite_form(heroes)


@pytest.mark.asyncio
async def test_an_async_engine_is_recorded_in_qmark_form_too(async_backend: URL | None) -> None:
    """asyncpg's $1::VARCHAR placeholders, aiomysql's %s: SQLite's form all the same."""
    async with async_scratch_database(async_backend) as engine:
        await heroes_sa.upgrade_async(engine)
        with record_sql(engine, qmark=True) as recorded:
            async with engine.connect() as connection:
                await connection.run_sync(insert_two_heroes)
    heroes = [s for s in recorded.dml() if s.table == "hero"]
    assert_sqlite_form(heroes)
