"""Fixtures of the parity suite: which backends to compare on.

SQLite always; a PostgreSQL or MariaDB server too when one is named by
``--heroes-db-url`` or ``$HEROES_TEST_DATABASE_URL``.  Every server database
the suite uses is a scratch one of its own, created and dropped around the
test, so the two implementations each start from nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from importlib.util import find_spec
from typing import Final

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.engine import URL

from tests.parity.servers import SERVER_URL_ENV_VAR, scratch_database, server_url

#: Selects the hypothesis settings profile: ``ci`` (default) or ``thorough``.
HYPOTHESIS_PROFILE_ENV_VAR: Final = "HYPOTHESIS_PROFILE"

#: Takes how to build an engine (and schema) on a URL; returns that engine on
#: a new, empty database.
DatabaseFactory = Callable[[Callable[[URL], Engine]], Engine]


def given_server(config: pytest.Config) -> URL | None:
    """The server to compare on too, if any."""
    # getoption's default covers running without a plugin that registers it.
    return server_url(config.getoption("heroes_db_url", default=None))


@pytest.fixture(params=["sqlite", "server"])
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite``, or ``server`` when a server URL is given (skipped otherwise)."""
    backend: str = request.param
    if backend == "server" and given_server(request.config) is None:
        pytest.skip(f"no database server given (--heroes-db-url or ${SERVER_URL_ENV_VAR})")
    return backend


@pytest.fixture
def new_database(backend: str, request: pytest.FixtureRequest) -> Iterator[DatabaseFactory]:
    """Builds an engine on a new, empty database on ``backend`` at each call.

    On SQLite a private in-memory database; on a server a scratch database.
    When the test ends each engine is disposed, then its database dropped.
    """
    server = given_server(request.config)
    with ExitStack() as stack:

        def make(build: Callable[[URL], Engine]) -> Engine:
            if server is None or backend == "sqlite":
                url = make_url("sqlite://")
            else:
                url = stack.enter_context(scratch_database(server))
            engine = build(url)
            stack.callback(engine.dispose)
            return engine

        yield make


def register_hypothesis_profiles() -> None:
    """``ci`` (the default) and ``thorough``, chosen by ``$HYPOTHESIS_PROFILE``.

    ``ci`` keeps the property tests to a few seconds; ``thorough`` is for a
    manual run before a release or after touching the models.  Each example is
    a sequence of up to ``stateful_step_count`` operations.
    """
    # Imported here: hypothesis comes with the optional 'parity' extra.
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        max_examples=200,
        stateful_step_count=30,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile(
        "thorough",
        max_examples=3000,
        stateful_step_count=60,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile(os.environ.get(HYPOTHESIS_PROFILE_ENV_VAR, "ci"))


if find_spec("hypothesis") is not None:
    register_hypothesis_profiles()
