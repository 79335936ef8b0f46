"""heroes_sa: the SQLModel tutorial's heroes and teams in plain SQLAlchemy 2.0.

The models live in one module per schema revision (:mod:`heroes_sa.one_to_many`,
:mod:`heroes_sa.many_to_many`, :mod:`heroes_sa.link_model`); the schema
belongs to the Alembic history that :func:`upgrade` runs.  The package root
exports the public API only; the asyncio twins (:func:`create_async_engine`,
:func:`upgrade_async`...) come from :mod:`heroes_sa.aio`, and the fast path
for large loads is :func:`heroes_sa.bulk.bulk_create`.
"""

from heroes_sa.aio import (
    create_async_engine,
    current_revision_async,
    downgrade_async,
    upgrade_async,
)
from heroes_sa.engine import create_engine
from heroes_sa.errors import (
    DatabaseNotEmptyError,
    HeroesError,
    InvalidValueError,
    MigrationError,
    MigrationRefusedError,
    WrongRevisionError,
)
from heroes_sa.migration import current_revision, downgrade, head_revision, upgrade

__all__ = [
    "DatabaseNotEmptyError",
    "HeroesError",
    "InvalidValueError",
    "MigrationError",
    "MigrationRefusedError",
    "WrongRevisionError",
    "create_async_engine",
    "create_engine",
    "current_revision",
    "current_revision_async",
    "downgrade",
    "downgrade_async",
    "head_revision",
    "upgrade",
    "upgrade_async",
]
