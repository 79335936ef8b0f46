"""heroes_sa as a downstream project gets it: the wheel, installed outside the repository.

:func:`installed_wheel` builds the wheel from this checkout and installs it
into a directory of its own; :func:`downstream_env` is the environment in
which ``python -s ...`` imports heroes_sa from there, with everything else
(SQLAlchemy, Alembic, pytest, the drivers) from this interpreter's
site-packages.  The benchmark of the fixtures' cost (``bench/fixture_cost.py``)
and the tests of a downstream suite (``tests/test_plugin_downstream.py``,
``tests/test_distribution.py``) run heroes_sa this way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent

#: A wheel built beforehand, used instead of building one from the checkout:
#: .ci/run sets it for the run that tests the wheel from a copy of the
#: checkout without ``heroes_sa/``, where there is nothing to build from.
WHEEL_ENV_VAR: Final = "HEROES_SA_WHEEL"

#: Variables that would point a downstream run at a database it was not given.
_INHERITED: Final = ("HEROES_TEST_DATABASE_URL", "HEROES_DATABASE_URL", "PYTEST_ADDOPTS")


class PackagingError(RuntimeError):
    """Building or installing the wheel failed; the message has pip's output."""


def _pip(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise PackagingError(f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def build_wheel(out: Path) -> Path:
    """Build heroes_sa's wheel from this checkout into ``out``; return its path.

    With ``$HEROES_SA_WHEEL`` set, that wheel is copied into ``out`` instead.
    """
    prebuilt = os.environ.get(WHEEL_ENV_VAR)
    if prebuilt:
        out.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(prebuilt, out))
    _pip("wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out), ".", cwd=ROOT)
    (wheel,) = out.glob("heroes_sa-*.whl")
    return wheel


def install_wheel(wheel: Path, site: Path) -> None:
    """Install ``wheel`` (without its dependencies) into the directory ``site``."""
    _pip("install", "--no-deps", "--quiet", "--target", str(site), str(wheel), cwd=site.parent)


def downstream_env(site: Path) -> dict[str, str]:
    """The environment of a process that imports heroes_sa from ``site``.

    ``PYTHONPATH`` puts ``site`` ahead of site-packages (run Python with
    ``-s`` so no user site-packages come between).  No heroes_sa database
    variable is inherited: a downstream run uses only what it is given.
    """
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED}
    env["PYTHONPATH"] = str(site)
    return env


@contextmanager
def installed_wheel() -> Iterator[Path]:
    """The directory heroes_sa's freshly built wheel is installed in, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="heroes_sa-wheel-") as scratch:
        wheel = build_wheel(Path(scratch) / "dist")
        site = Path(scratch) / "site"
        install_wheel(wheel, site)
        yield site
