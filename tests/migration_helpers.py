"""Helpers the migration tests share: fresh databases, schema diffs, row dumps."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, MetaData, inspect, text

import heroes_sa


def fresh_engine() -> Engine:
    """A new, empty in-memory database with heroes_sa's SQLite guarantees."""
    return heroes_sa.create_engine("sqlite://")


def schema_diff(engine: Engine, metadata: MetaData) -> list[Any]:
    """What autogenerate would change to make the database match ``metadata``."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff: list[Any] = compare_metadata(context, metadata)
        return diff


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Everything the inspector says about every table, for before/after equality."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table),
                "fks": inspector.get_foreign_keys(table),
                "indexes": sorted(inspector.get_indexes(table), key=lambda i: str(i["name"])),
            }
            for table in sorted(inspector.get_table_names())
        }


def rows(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    """All rows of ``table``, ordered, as plain tuples."""
    with engine.connect() as connection:
        # Table names here are test constants, never user input.
        result = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))  # noqa: S608
        return [tuple(r) for r in result]


def set_foreign_keys(connection: Connection, enabled: bool) -> None:
    """Switch SQLite enforcement on ``connection`` outside any transaction.

    Straight to the driver: through SQLAlchemy the pragma would start a
    transaction, inside which SQLite ignores it.
    """
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=ON" if enabled else "PRAGMA foreign_keys=OFF")
