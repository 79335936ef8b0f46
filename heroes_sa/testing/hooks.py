"""pytest hooks of the heroes_sa plugin: marker registration."""

from __future__ import annotations

import pytest

MARKER = "heroes_revision"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``heroes_revision`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(revision): run the heroes_sa fixtures at this Alembic revision instead of head",
    )
