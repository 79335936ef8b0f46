"""Alembic environment for heroes_sa.

Two ways in, as in Alembic's cookbook: the ``alembic`` CLI, which opens an
engine from ``HEROES_DATABASE_URL`` or ``sqlalchemy.url`` in alembic.ini, and
:mod:`heroes_sa.migration`, which hands over a live connection in
``config.attributes["connection"]`` (the only way to reach an in-memory SQLite
database).  Either way the migrations run inside
:func:`heroes_sa.migration.migration_transaction`.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from heroes_sa import link_model
from heroes_sa.aio import create_async_engine
from heroes_sa.engine import URL_ENV_VAR, create_engine, resolve_url
from heroes_sa.errors import HeroesError
from heroes_sa.migration import (
    CONNECTION_ATTRIBUTE,
    alembic_opts,
    check_downgrade_path,
    migration_transaction,
)

config = context.config

# Only the CLI has an ini file; library callers keep their own logging.
# disable_existing_loggers=False keeps pytest's caplog and the app's loggers alive.
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# What `alembic check` and autogenerate compare the database against: the head's models.
target_metadata = link_model.Base.metadata


def database_url() -> URL:
    """The URL for the CLI: ``$HEROES_DATABASE_URL`` wins over alembic.ini."""
    return resolve_url(os.environ.get(URL_ENV_VAR) or config.get_main_option("sqlalchemy.url"))


def run_migrations_offline() -> None:
    """Emit the migrations as SQL text (``alembic upgrade --sql``)."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    """Run the migrations on ``connection`` in one transaction."""
    with migration_transaction(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            **alembic_opts(connection),
        )
        try:
            # Alembic reports "base" as None; a stamp's destinations come as a tuple.
            destination = context.get_revision_argument() or "base"
        except KeyError:
            destination = None  # a command with no destination: check, current...
        if isinstance(destination, str):
            check_downgrade_path(connection, ScriptDirectory.from_config(config), destination)
        with context.begin_transaction():
            context.run_migrations()


async def run_async_migrations(url: URL) -> None:
    """Migrate one connection of an async engine opened from ``url``."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate the caller's connection, or one opened from the URL."""
    connection = config.attributes.get(CONNECTION_ATTRIBUTE)
    if connection is not None:
        run_on(connection)
        return
    try:
        run_from_url(database_url())
    except HeroesError as error:
        # The alembic CLI prints a CommandError as one line; anything else
        # would reach the user as a traceback.
        raise CommandError(str(error)) from error


def run_from_url(url: URL) -> None:
    """Migrate one connection of an engine opened from ``url`` (the CLI path)."""
    if url.get_dialect().is_async:
        asyncio.run(run_async_migrations(url))
        return
    engine = create_engine(url)
    try:
        with engine.connect() as own_connection:
            run_on(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
