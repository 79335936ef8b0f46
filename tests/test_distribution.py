"""heroes_sa as users get it: the alembic CLI from a checkout, and an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import heroes_sa
from heroes_sa import link_model, one_to_many

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.backends("sqlite", reason="packaging does not depend on the backend"),
]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def alembic(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run(
        [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), *args], cwd, **env
    )


def test_alembic_cli_creates_database_db_and_finds_no_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEROES_DATABASE_URL", raising=False)
    upgraded = alembic("upgrade", "head", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = heroes_sa.create_engine(f"sqlite:///{tmp_path / 'database.db'}")
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()
    checked = alembic("check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_alembic_cli_follows_heroes_database_url(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.db"
    result = alembic(
        "upgrade", one_to_many.REVISION, cwd=tmp_path, HEROES_DATABASE_URL=f"sqlite:///{target}"
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "database.db").exists()
    engine = heroes_sa.create_engine(f"sqlite:///{target}")
    assert heroes_sa.current_revision(engine) == one_to_many.REVISION
    engine.dispose()


def test_alembic_cli_reports_a_refused_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    engine = heroes_sa.create_engine(url)
    heroes_sa.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO team (name, headquarters) VALUES ('A', 'a'), ('B', 'b')"
        )
        connection.exec_driver_sql("INSERT INTO hero (name, secret_name) VALUES ('Deadpond', 'D')")
        connection.exec_driver_sql(
            "INSERT INTO heroteamlink (team_id, hero_id) VALUES (1, 1), (2, 1)"
        )
    # Three revisions down: the refusal of 0002 must come before any later step.
    result = alembic("downgrade", one_to_many.REVISION, cwd=tmp_path, HEROES_DATABASE_URL=url)
    assert result.returncode != 0
    # One line, as Alembic prints its own errors, not a traceback.
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("FAILED: cannot downgrade below 0002_many_to_many")
    assert "hero 1 'Deadpond' (2 teams)" in result.stdout
    assert heroes_sa.current_revision(engine) == link_model.REVISION
    engine.dispose()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            ".",
        ],
        ROOT,
    )
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("heroes_sa-*.whl")
    return path


def test_the_wheel_carries_the_migration_scripts_and_the_plugin(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        declared = archive.read(entry_points).decode()
    assert "heroes_sa/_migrations/env.py" in names
    assert "heroes_sa/_migrations/versions/0001_one_to_many.py" in names
    assert "heroes_sa/_migrations/versions/0002_many_to_many.py" in names
    assert "heroes_sa/py.typed" in names
    assert "heroes_sa = heroes_sa.testing" in declared
    assert "heroes-sa = heroes_sa.cli:main" in declared


def test_an_installed_wheel_migrates_without_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    installed = run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
        tmp_path,
    )
    assert installed.returncode == 0, installed.stderr
    script = (
        "import heroes_sa, heroes_sa.migration as m\n"
        f"assert heroes_sa.__file__.startswith({str(site)!r}), heroes_sa.__file__\n"
        "print(m.script_location())\n"
        "engine = heroes_sa.create_engine('sqlite://')\n"
        "heroes_sa.upgrade(engine)\n"
        "print(heroes_sa.current_revision(engine))\n"
    )
    # -I would drop PYTHONPATH too; -s keeps user site-packages out, the
    # interpreter's own site-packages still supplies sqlalchemy and alembic.
    result = run([sys.executable, "-s", "-c", script], tmp_path, PYTHONPATH=str(site))
    assert result.returncode == 0, result.stderr
    location, revision = result.stdout.split()
    assert location == str(site / "heroes_sa" / "_migrations")
    assert revision == link_model.REVISION
