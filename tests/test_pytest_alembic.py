"""pytest-alembic's built-in migration tests, run on heroes_sa's history.

The four every Alembic project should pass, and the experimental
``test_downgrade_leaves_no_trace``, which migrates inside a transaction and
savepoints (so not on MySQL/MariaDB, which commit DDL at once).  They are
called from plain test functions rather than collected with
``--test-alembic``, so they run with the suite's own backend markers; the
``--test-alembic`` setup a downstream project uses is tested from the wheel
in tests/test_distribution.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from pytest_alembic import MigrationContext
from pytest_alembic import tests as default_tests
from pytest_alembic.tests import experimental
from sqlalchemy import Engine

import heroes_sa
from heroes_sa.migration import alembic_config as heroes_alembic_config
from tests.conftest import backend_under_test
from tests.test_migrations import TRANSACTIONAL_DDL


@pytest.fixture
def alembic_config() -> Config:
    """pytest-alembic's configuration fixture: heroes_sa's own scripts."""
    return heroes_alembic_config()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """On SQLite, every test runs in memory and on a file; on a server, there."""
    if "alembic_engine" in metafunc.fixturenames:
        sqlite = backend_under_test(metafunc.config) == "sqlite"
        kinds = ["scratch", "sqlite-file"] if sqlite else ["scratch"]
        metafunc.parametrize("alembic_engine", kinds, indirect=True)


@pytest.fixture
def alembic_engine(
    request: pytest.FixtureRequest, engine: Engine, tmp_path: Path
) -> Iterator[Engine]:
    """pytest-alembic's database fixture, an Engine as its docs have it.

    The backend under test (in-memory SQLite, or a namespace on the server),
    and on SQLite also a database file.
    """
    if request.param == "scratch":
        yield engine
        return
    file_engine = heroes_sa.create_engine(f"sqlite:///{tmp_path / 'alembic.db'}")
    yield file_engine
    file_engine.dispose()


def test_single_head_revision(alembic_runner: MigrationContext) -> None:
    default_tests.test_single_head_revision(alembic_runner)


def test_upgrade(alembic_runner: MigrationContext) -> None:
    default_tests.test_upgrade(alembic_runner)
    assert alembic_runner.current == heroes_sa.head_revision()


def test_model_definitions_match_ddl(alembic_runner: MigrationContext) -> None:
    default_tests.test_model_definitions_match_ddl(alembic_runner)


def test_up_down_consistency(alembic_runner: MigrationContext) -> None:
    default_tests.test_up_down_consistency(alembic_runner)


@TRANSACTIONAL_DDL
def test_downgrade_leaves_no_trace(alembic_runner: MigrationContext) -> None:
    experimental.test_downgrade_leaves_no_trace(alembic_runner)
