"""``heroes-sa demo``: what each program prints, on every backend, and the databases it refuses.

Each refusal is checked where it starts (:func:`heroes_sa.demo.run` raises) and
where the user meets it (the command's one line and exit status 1), on a new
database of the backend under test, which it must leave as it was.  The flows
on the plugin's fixtures are tested with their models (tests/test_one_to_many.py,
test_many_to_many.py, test_link_model.py); the command's options and errors in
tests/test_cli.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.cli import main
from heroes_sa.demo import DEMOS, run
from heroes_sa.errors import DatabaseNotEmptyError, WrongRevisionError
from tests.migration_helpers import rows, schema_snapshot
from tests.test_link_model import LINK_MODEL_LINES
from tests.test_many_to_many import M2M_LINES


def demo_output(name: str, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["demo", name, "--db", url]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


@pytest.fixture
def db_engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on ``db_url``: the test's own look at the database the command used."""
    engine = heroes_sa.create_engine(db_url)
    yield engine
    engine.dispose()


def test_demo_models_match_the_modules() -> None:
    assert DEMOS["many-to-many"].revision == many_to_many.REVISION
    assert DEMOS["one-to-many"].revision == one_to_many.REVISION
    assert DEMOS["link-model"].revision == link_model.REVISION


@pytest.mark.parametrize(
    ("name", "lines"),
    [("many-to-many", M2M_LINES), ("link-model", LINK_MODEL_LINES)],
    ids=["many-to-many", "link-model"],
)
def test_the_demo_prints_the_tutorials_lines(
    name: str, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", name]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_the_one_to_many_demo_on_the_default_in_memory_database_ends_with_the_new_preventers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "one-to-many"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == 8
    assert lines[3] == (
        "Updated hero: Hero(id=3, name='Spider-Boy', secret_name='Pedro Parqueador',"
        " age=None, team_id=2)"
    )
    assert lines[-1] == (
        "Preventers new hero: Hero(id=8, name='Captain North America',"
        " secret_name='Esteban Rogelios', age=93, team_id=2)"
    )


@pytest.mark.parametrize("name", ["one-to-many", "many-to-many"])
def test_the_demo_prints_on_the_backend_under_test_what_it_prints_in_memory(
    name: str, db_url: str, db_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    in_memory = demo_output(name, "sqlite://", capsys)
    assert demo_output(name, db_url, capsys) == in_memory
    models = one_to_many if name == "one-to-many" else many_to_many
    assert heroes_sa.current_revision(db_engine) == models.REVISION
    with db_engine.connect() as connection:
        heroes = connection.scalar(sa.select(sa.func.count()).select_from(models.Hero))
    # Ids count from 1 with no gaps, so the highest one printed is the count.
    assert heroes == max(int(i) for i in re.findall(r"Hero\(id=(\d+)", in_memory))


# --- the databases it refuses, left as they were ---------------------------------------


def contents(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table the demo writes."""
    tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    return {table: rows(engine, table) for table in sorted(tables)}


def refusal(
    name: str,
    db_url: str,
    db_engine: sa.Engine,
    error: type[Exception],
    match: str,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """Run demo ``name`` on ``db_url`` both ways, each refused: the command's error line.

    The command exits 1 with one line on stderr and nothing on stdout;
    :func:`run` raises ``error`` matching ``match``.
    """
    assert main(["demo", name, "--db", db_url]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    with pytest.raises(error, match=match):
        run(name, db_engine, io.StringIO())
    return err


@pytest.mark.parametrize(("name", "heroes"), [("one-to-many", 8), ("many-to-many", 3)])
def test_the_demo_refuses_a_database_that_already_has_heroes_and_writes_nothing(
    name: str, heroes: int, db_url: str, db_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "Hero(id=1, name='Deadpond'," in demo_output(name, db_url, capsys)
    before = contents(db_engine)

    err = refusal(
        name, db_url, db_engine, DatabaseNotEmptyError, f"already holds {heroes} heroes", capsys
    )
    assert err == (
        f"heroes-sa: error: the database already holds {heroes} heroes;"
        " the demo only writes into an empty one\n"
    )
    assert contents(db_engine) == before


def test_the_demo_refuses_a_database_at_another_revision(
    db_url: str, db_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    heroes_sa.upgrade(db_engine, one_to_many.REVISION)
    before = schema_snapshot(db_engine)
    why = f"at revision {one_to_many.REVISION}, this demo needs {many_to_many.REVISION}"

    assert why in refusal("many-to-many", db_url, db_engine, WrongRevisionError, why, capsys)
    assert heroes_sa.current_revision(db_engine) == one_to_many.REVISION
    assert schema_snapshot(db_engine) == before


def test_the_demo_refuses_tables_alembic_does_not_know(
    db_url: str, db_engine: sa.Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database someone else made: the demo neither migrates nor writes into it."""
    theirs = sa.Table("hero", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True))
    theirs.create(db_engine)

    why = r"has tables \(hero\) but no Alembic revision"
    assert "no Alembic revision" in refusal(
        "one-to-many", db_url, db_engine, WrongRevisionError, why, capsys
    )
    assert sa.inspect(db_engine).get_table_names() == ["hero"]
