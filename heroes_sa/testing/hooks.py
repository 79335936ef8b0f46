"""pytest hooks of the heroes_sa plugin: marker registration, async fixtures."""

from __future__ import annotations

import sys
from importlib.util import find_spec
from types import ModuleType

import pytest

MARKER = "heroes_revision"

#: Name under which the async fixtures (or their stand-ins) are registered.
ASYNC_PLUGIN_NAME = "heroes_sa.testing.async"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``heroes_revision`` marker (so ``--strict-markers`` accepts it).

    Also registers the async fixtures when pytest-asyncio is active, and
    stand-ins that say what to install when it is not.
    """
    config.addinivalue_line(
        "markers",
        f"{MARKER}(revision): run the heroes_sa fixtures at this Alembic revision instead of head",
    )
    config.pluginmanager.register(_async_fixtures(config), ASYNC_PLUGIN_NAME)


def _async_fixtures(config: pytest.Config) -> ModuleType:
    # pytest-asyncio is looked up, never imported: a suite without it must not
    # load it (nor the async drivers) because heroes_sa is installed.  Without
    # greenlet, SQLAlchemy's asyncio extension cannot even be imported.
    asyncio_plugin = sys.modules.get("pytest_asyncio.plugin")
    if (
        asyncio_plugin is not None
        and config.pluginmanager.is_registered(asyncio_plugin)
        and find_spec("greenlet") is not None
    ):
        from heroes_sa.testing import async_fixtures

        return async_fixtures
    from heroes_sa.testing import async_missing

    return async_missing
