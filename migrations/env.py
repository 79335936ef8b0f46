"""Alembic environment for heroes_sa.

Two ways in, as in Alembic's cookbook: the ``alembic`` CLI, which opens an
engine on the URL of :func:`database_url`, and
callers that hand over a live database in ``config.attributes["connection"]``
(the only way to reach an in-memory SQLite database): :mod:`heroes_sa.migration`
and ``heroes-sa db`` pass a Connection, pytest-alembic passes the Engine of its
``alembic_engine`` fixture (or, in ``test_downgrade_leaves_no_trace``, a
connection wrapped to look like one).  Either way the migrations run inside
:func:`heroes_sa.migration.migration_transaction`.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from heroes_sa import link_model
from heroes_sa.aio import run_sync_on
from heroes_sa.engine import DEFAULT_URL, create_engine, resolve_url
from heroes_sa.errors import HeroesError
from heroes_sa.migration import (
    CONNECTION_ATTRIBUTE,
    UPGRADE_ATTRIBUTE,
    alembic_opts,
    check_destination,
    migration_transaction,
)

config = context.config

# Logging is the ini file's to configure, when it has logging sections at all: a
# minimal one (script_location and sqlalchemy.url) is valid Alembic configuration.
# Library callers have no ini and keep their own logging.  disable_existing_loggers=False
# keeps pytest's caplog and the app's loggers alive.
if config.config_file_name is not None and config.file_config.has_section("loggers"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# What `alembic check` and autogenerate compare the database against: the head's models.
target_metadata = link_model.Base.metadata


def database_url() -> URL:
    """The URL for the CLI: :func:`~heroes_sa.engine.resolve_url`'s, defaulting to alembic.ini's."""
    return resolve_url(default=config.get_main_option("sqlalchemy.url") or DEFAULT_URL)


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
        # context.script, not one built from config: pytest-alembic runs env.py
        # with a copy of the config that lost the script location.
        check_destination(
            context.get_context(),
            context.script,
            upgrade=bool(config.attributes.get(UPGRADE_ATTRIBUTE)),
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the caller's connection or engine, or one opened from the URL."""
    given = config.attributes.get(CONNECTION_ATTRIBUTE)
    if isinstance(given, Connection):
        run_on(given)
        return
    if given is not None:
        # An Engine, or anything else whose connect() gives a Connection.
        with given.connect() as connection:
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
        run_sync_on(url, run_on)
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
