"""Stand-ins for the async fixtures when pytest-asyncio or greenlet is missing.

Registered instead of :mod:`heroes_sa.testing.async_fixtures`, so a test
asking for one fails with what to install rather than "fixture not found".
"""

from __future__ import annotations

from typing import NoReturn

import pytest


def _unavailable(name: str) -> NoReturn:
    pytest.fail(
        f"{name} needs pytest-asyncio (active: not disabled with -p no:asyncio) and"
        " greenlet: pip install 'heroes_sa[async-testing]'",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def heroes_async_engine_factory() -> NoReturn:
    """Unavailable: needs pytest-asyncio and greenlet."""
    _unavailable("heroes_async_engine_factory")


@pytest.fixture
def heroes_async_engine() -> NoReturn:
    """Unavailable: needs pytest-asyncio and greenlet."""
    _unavailable("heroes_async_engine")


@pytest.fixture
def heroes_async_session() -> NoReturn:
    """Unavailable: needs pytest-asyncio and greenlet."""
    _unavailable("heroes_async_session")
