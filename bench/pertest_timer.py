"""A pytest plugin timing each test's whole run, for ``bench/fixture_cost.py``.

Loaded into the downstream suite's pytest with ``-p pertest_timer`` (the file
is copied next to the suite).  It wraps ``pytest_runtest_protocol`` from the
outside, so a test's time is everything pytest does for it: fixture set-up,
the call, teardown and reporting.  At the end it writes, to the file
``$HEROES_BENCH_TIMES`` names, each test's name with its wall and CPU
seconds, and where heroes_sa was imported from.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Generator
from typing import Final

import pytest

TIMES_ENV_VAR: Final = "HEROES_BENCH_TIMES"

_times: list[tuple[str, float, float]] = []


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Time one test from before its set-up to after its report."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        return (yield)
    finally:
        _times.append((item.name, time.perf_counter() - wall, time.process_time() - cpu))


def pytest_sessionfinish() -> None:
    """Write the times, and the heroes_sa that ran."""
    heroes_sa = sys.modules.get("heroes_sa")
    document = {"heroes_sa": getattr(heroes_sa, "__file__", None), "tests": _times}
    with open(os.environ[TIMES_ENV_VAR], "w") as out:
        json.dump(document, out)
