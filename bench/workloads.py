"""The workloads of the benchmark and the implementations compared in each.

Each implementation is a function that sets up its database (untimed), times
exactly the work being compared, checks afterwards that the work was really
done (row counts; a failed check raises :class:`BenchmarkError`) and returns a
:class:`Sample`.  What is timed is what a user's code would run: object
construction included for the ORM paths, input preparation excluded for all.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import sqlmodel
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

import heroes_sa
from bench import databases, plain_models, raw
from bench.data import Dataset
from bench.databases import Templates, copy_of, count
from heroes_sa.bulk import NewHero, NewTeam, bulk_create
from heroes_sa.many_to_many import Base, Hero, Team
from heroes_sa.testing import record_sql, rolled_back_session
from tests.parity import sqlmodel_many_to_many as sm


class BenchmarkError(RuntimeError):
    """An implementation did not do the work it was timed for."""


@dataclass(frozen=True)
class Sample:
    """One timed run: seconds of CPU time and of wall time, and the work done."""

    cpu: float
    wall: float
    #: Heroes loaded, migrated or read, or tests run: what "per unit" divides by.
    units: int


@dataclass
class Stopwatch:
    """Adds up the time spent in its :meth:`running` blocks."""

    units: int
    cpu: float = 0.0
    wall: float = 0.0
    ran: bool = False

    #: Pause the cyclic garbage collector inside timed blocks.  Off for the
    #: figures (users run with it on); ``run.py --no-gc`` switches it on to
    #: show how much of a cost is the collector's.
    pause_gc: ClassVar[bool] = False
    #: Call the markers bench/instructions.py has callgrind count between.
    mark_blocks: ClassVar[bool] = False

    @contextmanager
    def running(self, *, collect_garbage: bool = True) -> Iterator[None]:
        """Time the block; first collect garbage so earlier runs' is not billed to it."""
        if collect_garbage:
            gc.collect()
        if self.pause_gc:
            gc.disable()
        if self.mark_blocks:
            os.getppid()
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            yield
        finally:
            if self.mark_blocks:
                os.getsid(0)
            if self.pause_gc:
                gc.enable()
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - wall
        self.ran = True

    def result(self) -> Sample:
        if not self.ran:  # pragma: no cover - only if no block ever ran
            raise BenchmarkError("nothing was timed")
        return Sample(self.cpu, self.wall, units=self.units)


@dataclass(frozen=True)
class Settings:
    """How much work the fixture workload does per sample."""

    #: Tests per sample with heroes_session; the slow strategies run fewer
    #: (per-test cost is what is compared, so the counts need not match).
    tests: int = 200

    @property
    def slow_tests(self) -> int:
        return max(2, self.tests // 10)


Measure = Callable[[Templates, Settings], Sample]


@dataclass(frozen=True)
class Implementation:
    """One way of doing a workload's job."""

    name: str
    description: str
    measure: Measure


@dataclass(frozen=True)
class Workload:
    """One job, done by each of its implementations on the same data."""

    key: str
    title: str
    #: What "per unit" means: "hero" or "test".
    unit: str
    #: The implementation ratios are taken against.
    reference: str
    implementations: tuple[Implementation, ...] = field(default=())

    def implementation(self, name: str) -> Implementation:
        for implementation in self.implementations:
            if implementation.name == name:
                return implementation
        raise KeyError(f"workload {self.key} has no implementation {name!r}")


def check(ok: bool, what: str) -> None:
    """Raise :class:`BenchmarkError` unless ``ok``."""
    if not ok:
        raise BenchmarkError(what)


def _check_loaded(database: Any, templates: Templates) -> None:
    data = templates.data
    check(count(database, "hero") == data.size, "not every hero was inserted")
    check(count(database, "team") == data.team_count, "not every team was inserted")
    check(
        count(database, "heroteamlink") == len(data.memberships),
        "not every membership was inserted",
    )


# --- 1. create through relationship attributes --------------------------------


def create_through_relationships(
    session: Session, data: Dataset, hero_class: type[Any], team_class: type[Any]
) -> None:
    """The seeds' steps: teams, then ``Hero(..., teams=[...])`` added one by one, one commit.

    The teams are never added themselves: they reach the session through
    ``Hero.teams``, as in the tutorial.
    """
    teams = [team_class(name=name, headquarters=hq) for name, hq in data.teams]
    for (name, secret_name, age), positions in zip(data.heroes, data.teams_of, strict=True):
        hero = hero_class(
            name=name,
            secret_name=secret_name,
            age=age,
            teams=[teams[position] for position in positions],
        )
        session.add(hero)
    session.commit()


def _create_on_heroes_sa_engine(
    templates: Templates, hero_class: type[Any], team_class: type[Any]
) -> Sample:
    engine = heroes_sa.create_engine("sqlite://")
    heroes_sa.upgrade(engine)
    watch = Stopwatch(templates.data.size)
    try:
        with watch.running(), Session(engine) as session:
            create_through_relationships(session, templates.data, hero_class, team_class)
        _check_loaded(engine, templates)
    finally:
        engine.dispose()
    return watch.result()


def create_heroes_sa(templates: Templates, _settings: Settings) -> Sample:
    """heroes_sa's models and a plain Session on a heroes_sa engine."""
    return _create_on_heroes_sa_engine(templates, Hero, Team)


def create_plain(templates: Templates, _settings: Settings) -> Sample:
    """The same models without validation (bench/plain_models.py), the same engine."""
    models = plain_models.PLAIN
    return _create_on_heroes_sa_engine(templates, models.Hero, models.Team)


def create_empty_listeners(templates: Templates, _settings: Settings) -> Sample:
    """The same models with validation's listeners emptied (bench/plain_models.py)."""
    models = plain_models.EMPTY_LISTENERS
    return _create_on_heroes_sa_engine(templates, models.Hero, models.Team)


def create_sqlmodel(templates: Templates, _settings: Settings) -> Sample:
    """SQLModel's models, engine and Session; the schema from ``create_all``."""
    engine = sqlmodel.create_engine("sqlite://")
    sm.metadata.create_all(engine)
    watch = Stopwatch(templates.data.size)
    try:
        with watch.running(), sqlmodel.Session(engine) as session:
            create_through_relationships(session, templates.data, sm.Hero, sm.Team)
        _check_loaded(engine, templates)
    finally:
        engine.dispose()
    return watch.result()


def load_sqlite3(templates: Templates, _settings: Settings) -> Sample:
    """executemany per table with hand-written SQL (the floor)."""
    connection = copy_of(templates.empty)
    watch = Stopwatch(templates.data.size)
    try:
        with watch.running():
            raw.load(connection, templates.data)
        _check_loaded(connection, templates)
    finally:
        connection.close()
    return watch.result()


# --- 2. the bulk path ----------------------------------------------------------


def bulk_inputs(templates: Templates) -> tuple[list[NewHero], list[NewTeam]]:
    """The data set as :func:`~heroes_sa.bulk.bulk_create` takes it."""
    data = templates.data
    heroes: list[NewHero] = [
        {"name": name, "secret_name": secret_name, "age": age}
        for name, secret_name, age in data.heroes
    ]
    teams: list[NewTeam] = [{"name": name, "headquarters": hq} for name, hq in data.teams]
    return heroes, teams


def bulk_heroes_sa(templates: Templates, _settings: Settings) -> Sample:
    """:func:`heroes_sa.bulk.bulk_create`, then commit."""
    data = templates.data
    heroes, teams = bulk_inputs(templates)
    engine = heroes_sa.create_engine("sqlite://")
    heroes_sa.upgrade(engine)
    watch = Stopwatch(data.size)
    try:
        with watch.running(), Session(engine) as session:
            bulk_create(session, heroes=heroes, teams=teams, memberships=data.memberships)
            session.commit()
        _check_loaded(engine, templates)
    finally:
        engine.dispose()
    return watch.result()


# --- 3. read every hero with its teams ----------------------------------------

HeroesWithTeams = list[tuple[str, list[str]]]


def read_selectin(session: Session) -> HeroesWithTeams:
    """The documented path: ``selectinload(Hero.teams)``."""
    heroes = session.scalars(select(Hero).options(selectinload(Hero.teams))).all()
    return [(hero.name, [team.name for team in hero.teams]) for hero in heroes]


def read_lazy(session: Session) -> HeroesWithTeams:
    """Hero by hero: each ``hero.teams`` lazy-loads with a query of its own."""
    heroes = session.scalars(select(Hero)).all()
    return [(hero.name, [team.name for team in hero.teams]) for hero in heroes]


def read_sqlmodel(session: sqlmodel.Session) -> HeroesWithTeams:
    """SQLModel's session and models, the same loader option."""
    statement = sqlmodel.select(sm.Hero).options(selectinload(sm.Hero.teams))
    heroes = session.exec(statement).all()
    return [(hero.name, [team.name for team in hero.teams]) for hero in heroes]


def _check_read(result: list[Any], templates: Templates) -> None:
    check(len(result) == templates.data.size, "not every hero was read")
    memberships = sum(len(teams) for _, teams in result)
    check(memberships == len(templates.data.memberships), "not every membership was read")


def _reader(reader: Callable[[Session], HeroesWithTeams]) -> Measure:
    def measure(templates: Templates, _settings: Settings) -> Sample:
        engine = templates.shared_engine("read", templates.loaded)
        watch = Stopwatch(templates.data.size)
        with watch.running(), Session(engine) as session:
            result = reader(session)
        _check_read(result, templates)
        return watch.result()

    measure.__doc__ = reader.__doc__
    return measure


def read_sqlmodel_measure(templates: Templates, _settings: Settings) -> Sample:
    """SQLModel's session and models, ``selectinload(Hero.teams)``."""
    engine = templates.shared_engine("read-sqlmodel", templates.loaded, sqlmodel_peer=True)
    watch = Stopwatch(templates.data.size)
    with watch.running(), sqlmodel.Session(engine) as session:
        result = read_sqlmodel(session)
    _check_read(result, templates)
    return watch.result()


def read_sqlite3(templates: Templates, _settings: Settings) -> Sample:
    """Two hand-written queries, grouped in Python (the floor)."""
    connection = templates.shared_connection("read-sqlite3", templates.loaded)
    watch = Stopwatch(templates.data.size)
    with watch.running():
        result = raw.read_heroes_with_teams(connection)
    _check_read(result, templates)
    return watch.result()


def read_statement_counts(templates: Templates) -> dict[str, int]:
    """SELECTs each eager read sends (untimed: the listener would cost time)."""
    counts = {}
    engine = templates.shared_engine("read", templates.loaded)
    with record_sql(engine) as recorded, Session(engine) as session:
        read_selectin(session)
    counts["heroes_sa selectinload"] = len(recorded.selects())
    engine = templates.shared_engine("read-sqlmodel", templates.loaded, sqlmodel_peer=True)
    with record_sql(engine) as recorded, sqlmodel.Session(engine) as session:
        read_sqlmodel(session)
    counts["SQLModel selectinload"] = len(recorded.selects())
    return counts


# --- 4. the data-moving migration -----------------------------------------------


def migrate_heroes_sa(templates: Templates, _settings: Settings) -> Sample:
    """``heroes_sa.upgrade(engine)`` from revision 0001 with one team per hero."""
    engine = databases.heroes_sa_engine(copy_of(templates.loaded_one_to_many))
    watch = Stopwatch(templates.data.size)
    try:
        with watch.running():
            heroes_sa.upgrade(engine)
        check(count(engine, "heroteamlink") == templates.data.size, "memberships were not moved")
    finally:
        engine.dispose()
    return watch.result()


def migrate_sqlite3(templates: Templates, _settings: Settings) -> Sample:
    """The statements the upgrade sends, by hand through ``sqlite3`` (the floor)."""
    connection = copy_of(templates.loaded_one_to_many)
    watch = Stopwatch(templates.data.size)
    try:
        with watch.running():
            raw.migrate_to_head(connection)
        check(count(connection, "heroteamlink") == templates.data.size, "not moved")
    finally:
        connection.close()
    return watch.result()


# --- 5. test fixtures --------------------------------------------------------------


def a_small_test(session: Session) -> None:
    """The body of each simulated test: write a hero in a team, commit, read it back."""
    team = Team(name="Preventers", headquarters="Sharp Tower")
    hero = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48, teams=[team])
    session.add(hero)
    session.commit()
    check(session.get(Hero, hero.id) is hero, "the hero is not in the session")
    check([t.name for t in hero.teams] == ["Preventers"], "the hero lost its team")


def _run_tests(fixture: Callable[[], AbstractContextManager[Session]], tests: int) -> Sample:
    """Per-test cost of ``fixture``: its setup and teardown are timed, the body is not.

    The body is the same for every strategy, so timing it would only add the
    same amount to each; it does write and commit, so the teardown has a
    savepoint released and rows to undo.
    """
    watch = Stopwatch(tests)
    gc.collect()
    for _ in range(tests):
        with watch.running(collect_garbage=False):
            manager = fixture()
            session = manager.__enter__()
        try:
            a_small_test(session)
        except BaseException as error:
            manager.__exit__(type(error), error, error.__traceback__)
            raise
        with watch.running(collect_garbage=False):
            manager.__exit__(None, None, None)
    return watch.result()


def fixtures_heroes_session(templates: Templates, settings: Settings) -> Sample:
    """heroes_session's recipe on one shared database holding the data set."""
    engine = templates.shared_engine("fixtures", templates.loaded)
    sample = _run_tests(lambda: rolled_back_session(engine), settings.tests)
    check(count(engine, "hero") == templates.data.size, "a test's hero outlived the test")
    return sample


@contextmanager
def _fresh_database(make_schema: Callable[[Engine], None]) -> Iterator[Session]:
    engine = heroes_sa.create_engine("sqlite://")
    try:
        make_schema(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def fixtures_migrate(_templates: Templates, settings: Settings) -> Sample:
    """A new in-memory database migrated by heroes_sa.upgrade for every test."""
    return _run_tests(lambda: _fresh_database(heroes_sa.upgrade), settings.slow_tests)


def fixtures_create_all(_templates: Templates, settings: Settings) -> Sample:
    """A new in-memory database made by ``Base.metadata.create_all`` for every test."""
    return _run_tests(lambda: _fresh_database(Base.metadata.create_all), settings.slow_tests)


WORKLOADS: Final = (
    Workload(
        "create",
        "1. Create through Hero(teams=[...]), one commit",
        "hero",
        reference="SQLModel",
        implementations=(
            Implementation("heroes_sa", "heroes_sa models, Session, one commit", create_heroes_sa),
            Implementation("SQLModel", "SQLModel models and Session, one commit", create_sqlmodel),
            Implementation(
                "no validation", "the same models, unchecked (SQLAlchemy's floor)", create_plain
            ),
            Implementation(
                "empty listeners",
                "the same models, validation's events doing nothing",
                create_empty_listeners,
            ),
            Implementation("sqlite3", "executemany, hand-written SQL (floor)", load_sqlite3),
        ),
    ),
    Workload(
        "bulk",
        "2. Bulk load with memberships",
        "hero",
        reference="sqlite3",
        implementations=(
            Implementation("heroes_sa bulk_create", "heroes_sa.bulk.bulk_create", bulk_heroes_sa),
            Implementation("sqlite3", "executemany, hand-written SQL (floor)", load_sqlite3),
        ),
    ),
    Workload(
        "read",
        "3. Read every hero with its teams",
        "hero",
        reference="heroes_sa selectinload",
        implementations=(
            Implementation(
                "heroes_sa selectinload", "select(Hero) + selectinload", _reader(read_selectin)
            ),
            Implementation(
                "heroes_sa lazy", "select(Hero), hero.teams per hero", _reader(read_lazy)
            ),
            Implementation("SQLModel selectinload", "SQLModel, same query", read_sqlmodel_measure),
            Implementation("sqlite3", "two queries grouped in Python (floor)", read_sqlite3),
        ),
    ),
    Workload(
        "migrate",
        "4. Migration 0001 -> head (moves every membership)",
        "hero",
        reference="sqlite3",
        implementations=(
            Implementation("heroes_sa upgrade", "heroes_sa.upgrade(engine)", migrate_heroes_sa),
            Implementation("sqlite3", "the same SQL by hand (floor)", migrate_sqlite3),
        ),
    ),
    Workload(
        "fixtures",
        "5. Per-test database fixture (database holds the data set)",
        "test",
        reference="heroes_session",
        implementations=(
            Implementation(
                "heroes_session", "BEGIN, SAVEPOINT, ROLLBACK per test", fixtures_heroes_session
            ),
            Implementation("migrate per test", "fresh :memory: + upgrade", fixtures_migrate),
            Implementation(
                "create_all per test", "fresh :memory: + create_all", fixtures_create_all
            ),
        ),
    ),
)


def workload(key: str) -> Workload:
    """The workload called ``key``."""
    for candidate in WORKLOADS:
        if candidate.key == key:
            return candidate
    raise KeyError(f"no workload {key!r}; the workloads are {[w.key for w in WORKLOADS]}")
