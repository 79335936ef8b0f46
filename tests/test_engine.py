"""heroes_sa.create_engine: where the URL comes from and what SQLite guarantees."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import heroes_sa
from heroes_sa import link_model, many_to_many
from heroes_sa.engine import DEFAULT_URL, URL_ENV_VAR, resolve_url, sqlite_pragma


def test_url_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV_VAR, "sqlite:///from-env.db")
    assert str(resolve_url("sqlite:///arg.db")) == "sqlite:///arg.db"
    assert str(resolve_url()) == "sqlite:///from-env.db"
    monkeypatch.delenv(URL_ENV_VAR)
    assert str(resolve_url()) == DEFAULT_URL
    assert str(resolve_url(default="sqlite://")) == "sqlite://", "the caller's own default"


def test_default_engine_uses_database_db_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    engine = heroes_sa.create_engine()
    heroes_sa.upgrade(engine)
    engine.dispose()
    assert (tmp_path / "database.db").is_file()


def test_in_memory_engine_is_one_database_for_every_connection() -> None:
    engine = heroes_sa.create_engine("sqlite://")
    with engine.begin() as first:
        first.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as second:
        assert second.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_an_in_memory_database_outlives_a_connection_the_pool_discards() -> None:
    """SQLAlchemy invalidates a connection after some errors; the data must stay."""
    engine = heroes_sa.create_engine("sqlite://")
    heroes_sa.upgrade(engine)
    with Session(engine) as session:
        session.add(many_to_many.Hero(name="Deadpond", secret_name="Dive Wilson"))
        session.commit()
    with engine.connect() as connection:
        connection.invalidate()
    with Session(engine) as session:
        assert session.scalars(sa.select(many_to_many.Hero.name)).all() == ["Deadpond"]
    engine.dispose()


def test_every_sqlite_connection_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = heroes_sa.create_engine(f"sqlite:///{tmp_path / 'fk.db'}", pool_size=2)
    heroes_sa.upgrade(engine)
    with engine.connect() as a, engine.connect() as b:
        for connection in (a, b):
            # Past SQLAlchemy, so no transaction begins: two connections of one
            # thread must not both take the write lock.
            assert sqlite_pragma(connection.connection.dbapi_connection, "PRAGMA foreign_keys") == 1


def test_ddl_is_rolled_back_with_its_transaction() -> None:
    engine = heroes_sa.create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.rollback()
        assert sa.inspect(connection).get_table_names() == []


def test_savepoint_rollback_keeps_the_outer_transaction(heroes_engine: sa.Engine) -> None:
    """Savepoints really nest: what the driver does on its own they would not."""
    with heroes_engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        session.add(many_to_many.Team(name="Kept", headquarters="H"))
        session.commit()  # releases a savepoint, outer transaction still open
        session.add(many_to_many.Team(name="Dropped", headquarters="H"))
        session.flush()
        session.rollback()
        names = session.scalars(sa.select(many_to_many.Team.name)).all()
        session.close()
        outer.rollback()
    assert names == ["Kept"]
    with heroes_engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(many_to_many.Team))
    assert count == 0, "the outer rollback takes the released savepoint with it"


def test_session_stays_usable_after_an_integrity_error(heroes_session: Session) -> None:
    heroes_session.add(many_to_many.HeroTeamLink(team_id=41, hero_id=42))
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        heroes_session.commit()
    heroes_session.rollback()
    heroes_session.add(many_to_many.Team(name="After", headquarters="H"))
    heroes_session.commit()
    assert heroes_session.scalars(sa.select(many_to_many.Team.name)).all() == ["After"]
    assert heroes_session.scalars(sa.select(many_to_many.HeroTeamLink)).all() == []


def test_create_engine_passes_keyword_arguments_through() -> None:
    # Not echo=True: SQLAlchemy binds its log handler to sys.stdout as it is at
    # the first echo, which would be this test's captured stream for good.
    engine = heroes_sa.create_engine("sqlite://", pool_recycle=5, execution_options={"x": 1})
    assert engine.pool._recycle == 5
    assert engine.get_execution_options()["x"] == 1


def journal_mode(path: Path) -> str:
    """The journal mode recorded in the file, read with plain sqlite3."""
    with closing(sqlite3.connect(path)) as raw:
        mode: str = raw.execute("PRAGMA journal_mode").fetchone()[0]
    return mode


def test_opening_a_file_leaves_its_journal_mode_and_a_migration_sets_wal(tmp_path: Path) -> None:
    path = tmp_path / "heroes.db"
    engine = heroes_sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert journal_mode(path) == "delete", "connecting must not write to the file"
    heroes_sa.upgrade(engine)
    engine.dispose()
    assert journal_mode(path) == "wal", "the migration wrote, and leaves the file in WAL mode"


def test_sqlite_wal_true_switches_each_connection_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "opt-in.db"
    engine = heroes_sa.create_engine(f"sqlite:///{path}", sqlite_wal=True)
    with engine.connect():
        pass
    engine.dispose()
    assert journal_mode(path) == "wal"


@pytest.mark.parametrize(
    ("options", "sent"),
    [
        ({}, "BEGIN IMMEDIATE"),
        ({"sqlite_begin": "IMMEDIATE"}, "BEGIN IMMEDIATE"),
        ({"sqlite_begin": "DEFERRED"}, "BEGIN"),
    ],
)
def test_transactions_begin_immediate_unless_the_sqlite_begin_option_says_otherwise(
    tmp_path: Path, options: dict[str, str], sent: str
) -> None:
    engine = heroes_sa.create_engine(
        f"sqlite:///{tmp_path / 'begin.db'}", execution_options=options
    )
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with engine.begin() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert seen[0] == sent
    engine.dispose()


def test_an_unknown_sqlite_begin_mode_is_named() -> None:
    engine = heroes_sa.create_engine("sqlite://", execution_options={"sqlite_begin": "LATER"})
    with (
        pytest.raises(
            ValueError,
            match="sqlite_begin must be one of DEFERRED, IMMEDIATE, EXCLUSIVE; got 'LATER'",
        ),
        engine.begin(),
    ):
        pass


def test_server_engines_ping_connections_before_use() -> None:
    pytest.importorskip("psycopg", reason="needs the postgres extra")
    engine = heroes_sa.create_engine("postgresql+psycopg://u:pw@127.0.0.1:1/db")
    assert engine.pool._pre_ping
    assert "pw" not in repr(engine)
    assert heroes_sa.create_engine("sqlite://").pool._pre_ping is False


def test_an_engine_with_execution_options_is_still_set_up_for_migrations() -> None:
    """``engine.execution_options(...)`` makes a new Engine sharing the pool and hooks."""
    engine = heroes_sa.create_engine("sqlite://")
    heroes_sa.upgrade(engine.execution_options(sqlite_begin="DEFERRED"))
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()
