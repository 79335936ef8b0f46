"""Revision 0004 and :mod:`heroes_sa.link_model`: the chapter "Link Model with Extra Fields".

The migration on new databases of the backend under test (the ``engine``
fixture), the head's models on the plugin's fixtures, one session changing
both paths to the link table (the answers docs/LINK_MODEL.md gives), the
demo, and the validation the chapter needs.
"""

from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import heroes_sa
from heroes_sa import link_model, many_to_many, one_to_many
from heroes_sa.demo import link_model_flow
from heroes_sa.errors import InvalidValueError, MigrationError, MigrationRefusedError
from heroes_sa.link_model import Hero, HeroTeamLink, Team
from heroes_sa.migration import alembic_config
from heroes_sa.testing import RecordedSQL
from tests.migration_helpers import rows, schema_snapshot

#: What the chapter's program prints, objects shown by heroes_sa's repr.
LINK_MODEL_LINES = [
    "Z-Force hero: Hero(id=1, name='Deadpond', secret_name='Dive Wilson', age=None)"
    " is training: False",
    "Preventers hero: Hero(id=1, name='Deadpond', secret_name='Dive Wilson', age=None)"
    " is training: True",
    "Preventers hero: Hero(id=2, name='Spider-Boy', secret_name='Pedro Parqueador', age=None)"
    " is training: True",
    "Preventers hero: Hero(id=3, name='Rusty-Man', secret_name='Tommy Sharp', age=48)"
    " is training: False",
    "Updated Spider-Boy's Teams: [HeroTeamLink(team_id=2, hero_id=2, is_training=True),"
    " HeroTeamLink(team_id=1, hero_id=2, is_training=True)]",
    "Z-Force heroes: [HeroTeamLink(team_id=1, hero_id=1, is_training=False),"
    " HeroTeamLink(team_id=1, hero_id=2, is_training=True)]",
    "Spider-Boy team: Team(id=2, name='Preventers', headquarters='Sharp Tower') is training: False",
    "Spider-Boy team: Team(id=1, name='Z-Force', headquarters=\"Sister Margaret's Bar\")"
    " is training: True",
]

#: The same on MySQL/MariaDB, where InnoDB returns a hero's links in the order of
#: ix_heroteamlink_hero_id, by team: Spider-Boy's two memberships swap places.
#: An unordered lazy load, as in the tutorial; SQLModel's program prints the
#: same there (tests/parity/test_seed_flows.py runs both on every backend).
LINK_MODEL_LINES_ON_MYSQL = [
    *LINK_MODEL_LINES[:4],
    "Updated Spider-Boy's Teams: [HeroTeamLink(team_id=1, hero_id=2, is_training=True),"
    " HeroTeamLink(team_id=2, hero_id=2, is_training=True)]",
    LINK_MODEL_LINES[5],
    LINK_MODEL_LINES[7],
    LINK_MODEL_LINES[6],
]

BEFORE = many_to_many.REVISION
HEAD = link_model.REVISION


def memberships(session: Session) -> dict[tuple[str, str], bool]:
    """(hero name, team name) -> is_training, for every link row."""
    found = session.execute(
        select(Hero.name, Team.name, HeroTeamLink.is_training)
        .join(HeroTeamLink, HeroTeamLink.hero_id == Hero.id)
        .join(Team, Team.id == HeroTeamLink.team_id)
    )
    return {(hero, team): is_training for hero, team, is_training in found}


# --- revision 0004 ----------------------------------------------------------------


def seed_at_0003(engine: Engine) -> None:
    """The many-to-many page's memberships, written by revision 0003's models."""
    with Session(engine) as session:
        preventers = many_to_many.Team(name="Preventers", headquarters="Sharp Tower")
        z_force = many_to_many.Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add_all(
            [
                many_to_many.Hero(
                    name="Deadpond", secret_name="Dive Wilson", teams=[z_force, preventers]
                ),
                many_to_many.Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[preventers]),
                many_to_many.Hero(name="Spider-Boy", secret_name="Pedro Parqueador"),
            ]
        )
        session.commit()


def seed_at_head(engine: Engine, *, training: bool) -> None:
    """Heroes 1-3 (Deadpond, Rusty-Man, Spider-Boy), teams 1-2 (Preventers, Z-Force).

    Deadpond is in both, the others in Preventers; with ``training``,
    Deadpond and Spider-Boy are in training in Preventers.
    """
    with Session(engine) as session:
        deadpond = Hero(name="Deadpond", secret_name="Dive Wilson")
        rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp", age=48)
        spider_boy = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
        preventers = Team(name="Preventers", headquarters="Sharp Tower")
        z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
        session.add_all([deadpond, rusty_man, spider_boy, preventers, z_force])
        session.commit()
        session.add_all(
            [
                HeroTeamLink(hero=deadpond, team=z_force),
                HeroTeamLink(hero=deadpond, team=preventers, is_training=training),
                HeroTeamLink(hero=spider_boy, team=preventers, is_training=training),
                HeroTeamLink(hero=rusty_man, team=preventers),
            ]
        )
        session.commit()


def test_upgrade_from_0003_keeps_every_membership_not_in_training(engine: Engine) -> None:
    heroes_sa.upgrade(engine, BEFORE)
    seed_at_0003(engine)
    links, heroes, teams = (rows(engine, t) for t in ("heroteamlink", "hero", "team"))

    heroes_sa.upgrade(engine)
    assert heroes_sa.current_revision(engine) == HEAD
    assert len(links) == 3
    # False on every backend, whether it reads back as False or as 0 (MariaDB).
    assert rows(engine, "heroteamlink") == [(*link, False) for link in links]
    assert (rows(engine, "hero"), rows(engine, "team")) == (heroes, teams)
    with Session(engine) as session:
        assert memberships(session) == {
            ("Deadpond", "Z-Force"): False,
            ("Deadpond", "Preventers"): False,
            ("Rusty-Man", "Preventers"): False,
        }


def test_an_insert_naming_only_the_two_keys_still_works_at_head(engine: Engine) -> None:
    """What ``Hero.teams`` sends, and any SQL written for revision 0003."""
    heroes_sa.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.insert(Team).values(name="Preventers", headquarters="Sharp Tower"))
        connection.execute(sa.insert(Hero).values(name="Rusty-Man", secret_name="Tommy Sharp"))
        connection.execute(sa.text("INSERT INTO heroteamlink (team_id, hero_id) VALUES (1, 1)"))
    assert rows(engine, "heroteamlink") == [(1, 1, False)]


TRAINING_REFUSAL = (
    f"cannot downgrade below {HEAD}: heroteamlink.is_training would be dropped, and these"
    " memberships are in training: hero 1 'Deadpond' in team 1 'Preventers',"
    " hero 3 'Spider-Boy' in team 1 'Preventers'"
)


@pytest.mark.parametrize(
    "destination", [BEFORE, "-1", "0002_many_to_many", one_to_many.REVISION, "base"]
)
def test_a_downgrade_refuses_memberships_in_training_before_any_step(
    engine: Engine, destination: str
) -> None:
    """The refusal names them and comes before any DDL: MariaDB commits DDL at once.

    Below 0002 Deadpond's two teams would be refused too; 0004's check,
    the first step down, speaks first.
    """
    heroes_sa.upgrade(engine)
    seed_at_head(engine, training=True)
    before = schema_snapshot(engine), [rows(engine, t) for t in ("heroteamlink", "hero", "team")]

    with pytest.raises(MigrationRefusedError) as refused:
        heroes_sa.downgrade(engine, destination)
    assert str(refused.value) == TRAINING_REFUSAL
    assert heroes_sa.current_revision(engine) == HEAD
    assert (
        schema_snapshot(engine),
        [rows(engine, t) for t in ("heroteamlink", "hero", "team")],
    ) == before


def test_down_and_up_twice_keeps_the_memberships_and_the_schema(engine: Engine) -> None:
    """With no membership in training the column goes, and comes back false."""
    heroes_sa.upgrade(engine, BEFORE)
    at_0003 = schema_snapshot(engine)
    heroes_sa.upgrade(engine)
    at_head = schema_snapshot(engine)
    seed_at_head(engine, training=False)
    links = rows(engine, "heroteamlink")
    assert [flag for *_, flag in links] == [False] * 4

    for _ in range(2):
        heroes_sa.downgrade(engine, BEFORE)
        assert heroes_sa.current_revision(engine) == BEFORE
        assert schema_snapshot(engine) == {
            **at_0003,
            "alembic_version": at_head["alembic_version"],
        }
        assert rows(engine, "heroteamlink") == [(team, hero) for team, hero, _ in links]
        heroes_sa.upgrade(engine)
        assert schema_snapshot(engine) == at_head
        assert rows(engine, "heroteamlink") == links


def test_sqlite_before_3_35_rebuilds_the_table_to_drop_the_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No ALTER TABLE ... DROP COLUMN there: batch mode copies the table instead."""
    engine = heroes_sa.create_engine("sqlite://")
    heroes_sa.upgrade(engine)
    seed_at_head(engine, training=False)
    links = rows(engine, "heroteamlink")
    monkeypatch.setattr(engine.dialect, "server_version_info", (3, 34, 1))
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))

    heroes_sa.downgrade(engine, BEFORE)
    assert any(sql.strip() == "DROP TABLE heroteamlink" for sql in sent)
    assert not any("DROP COLUMN" in sql for sql in sent)
    assert rows(engine, "heroteamlink") == [(team, hero) for team, hero, _ in links]
    assert [c["name"] for c in sa.inspect(engine).get_columns("heroteamlink")] == [
        "team_id",
        "hero_id",
    ]
    engine.dispose()


def same_boolean_default(
    _context: Any,
    _inspected_column: Any,
    metadata_column: sa.Column[Any],
    inspected_default: str | None,
    _metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic's own comparison, except that false is false however it is spelled.

    MariaDB reflects ``DEFAULT false`` as ``'0'``; Alembic compares that text
    with the rendered ``false`` and would report a change that is none.
    """
    if not isinstance(metadata_column.type, sa.Boolean):
        return None
    spellings = {"0", "false"}
    inspected = (inspected_default or "").strip("'\"").lower()
    rendered = (rendered_metadata_default or "").strip("'\"").lower()
    return not (inspected in spellings and rendered in spellings)


def test_the_head_matches_its_models_server_default_included(engine: Engine) -> None:
    """``alembic check`` compares types; this also compares server defaults."""
    heroes_sa.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": same_boolean_default},
        )
        assert compare_metadata(context, link_model.Base.metadata) == []
        # Not vacuous: the 0003 models lack the column.
        (change,) = compare_metadata(context, many_to_many.Base.metadata)
    assert change[:3] == ("remove_column", None, "heroteamlink")
    assert change[3].name == "is_training"


def test_offline_sql_adds_the_column_but_cannot_check_a_downgrade(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite://")
    command.upgrade(config, f"{BEFORE}:{HEAD}", sql=True)
    assert (
        "ALTER TABLE heroteamlink ADD COLUMN is_training BOOLEAN DEFAULT 0 NOT NULL"
        in capsys.readouterr().out
    )
    with pytest.raises(MigrationError, match="needs a live database"):
        command.downgrade(config, f"{HEAD}:{BEFORE}", sql=True)


# --- the head's models -----------------------------------------------------------


def test_the_models_configure_without_a_warning() -> None:
    """``overlaps=`` tells SQLAlchemy that both paths write heroteamlink on purpose.

    In a new interpreter with every warning an error: configuring the
    mappers warns once per unmarked overlap, and only the first process to
    configure them would see it.
    """
    code = "import heroes_sa.link_model, sqlalchemy.orm; sqlalchemy.orm.configure_mappers()"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_a_link_reaches_its_hero_and_team_and_both_reach_it(heroes_session: Session) -> None:
    hero = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    team = Team(name="Preventers", headquarters="Sharp Tower")
    link = HeroTeamLink(hero=hero, team=team, is_training=True)
    assert (hero.team_links, team.hero_links) == ([link], [link])
    heroes_session.add(link)
    heroes_session.commit()

    assert (link.hero_id, link.team_id) == (hero.id, team.id)
    assert hero.teams == [team]
    assert team.heroes == [hero]
    assert memberships(heroes_session) == {("Spider-Boy", "Preventers"): True}


def test_a_new_link_is_not_in_training_and_its_insert_says_so(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    """As SQLModel's field default: the INSERT names the column, as SQLModel's does."""
    link = HeroTeamLink(
        hero=Hero(name="Rusty-Man", secret_name="Tommy Sharp"),
        team=Team(name="Preventers", headquarters="Sharp Tower"),
    )
    assert link.is_training is False
    heroes_session.add(link)
    heroes_session.commit()
    (insert,) = [s for s in sql_log.statements if s.table == "heroteamlink"]
    assert "is_training" in insert.sql
    assert memberships(heroes_session) == {("Rusty-Man", "Preventers"): False}


def test_hero_teams_writes_the_link_table_as_revision_0003_does(
    heroes_session: Session, sql_log: RecordedSQL
) -> None:
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    hero = Hero(name="Rusty-Man", secret_name="Tommy Sharp", teams=[preventers])
    heroes_session.add(hero)
    heroes_session.commit()

    (insert,) = [s for s in sql_log.statements if s.table == "heroteamlink"]
    assert "is_training" not in insert.sql
    assert [(link.team, link.is_training) for link in hero.team_links] == [(preventers, False)]


@pytest.fixture
def linked(heroes_session: Session) -> tuple[Hero, Hero, Team, Team]:
    """Deadpond in Preventers (in training) and Z-Force, Rusty-Man in Preventers, committed."""
    deadpond = Hero(name="Deadpond", secret_name="Dive Wilson")
    rusty_man = Hero(name="Rusty-Man", secret_name="Tommy Sharp")
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    heroes_session.add_all(
        [
            HeroTeamLink(hero=deadpond, team=preventers, is_training=True),
            HeroTeamLink(hero=deadpond, team=z_force),
            HeroTeamLink(hero=rusty_man, team=preventers),
        ]
    )
    heroes_session.commit()
    return deadpond, rusty_man, preventers, z_force


LOADED = [(), ("teams",), ("team_links",), ("teams", "team_links")]


@pytest.mark.parametrize("loaded", LOADED, ids=lambda names: "+".join(names) or "nothing")
def test_deleting_a_hero_deletes_its_memberships_whatever_is_loaded(
    heroes_session: Session, linked: tuple[Hero, Hero, Team, Team], loaded: tuple[str, ...]
) -> None:
    """Both paths delete the hero's rows in one flush; the second finds them gone.

    A link cannot outlive its hero (``cascade="all, delete-orphan"``), and
    ``Hero.teams`` deletes the rows it lists too.
    """
    deadpond, rusty_man, preventers, _ = linked
    for name in loaded:
        getattr(deadpond, name)

    heroes_session.delete(deadpond)
    heroes_session.commit()
    assert memberships(heroes_session) == {("Rusty-Man", "Preventers"): False}
    assert preventers.heroes == [rusty_man]
    assert [link.hero for link in preventers.hero_links] == [rusty_man]


@pytest.mark.parametrize("loaded", [("heroes",), ("hero_links",), ("heroes", "hero_links")])
def test_deleting_a_team_deletes_its_memberships(
    heroes_session: Session, linked: tuple[Hero, Hero, Team, Team], loaded: tuple[str, ...]
) -> None:
    deadpond, _, preventers, z_force = linked
    for name in loaded:
        getattr(preventers, name)

    heroes_session.delete(preventers)
    heroes_session.commit()
    assert memberships(heroes_session) == {("Deadpond", "Z-Force"): False}
    assert deadpond.teams == [z_force]


def test_removing_a_link_from_a_collection_deletes_the_membership(
    heroes_session: Session, linked: tuple[Hero, Hero, Team, Team]
) -> None:
    deadpond, _, _, z_force = linked
    (in_z_force,) = [link for link in deadpond.team_links if link.team is z_force]
    deadpond.team_links.remove(in_z_force)
    heroes_session.commit()
    assert memberships(heroes_session) == {
        ("Deadpond", "Preventers"): True,
        ("Rusty-Man", "Preventers"): False,
    }
    assert z_force.hero_links == []


# --- one session, both paths (docs/LINK_MODEL.md) ----------------------------------


@pytest.fixture
def deadpond(heroes_session: Session) -> Hero:
    """Deadpond in no team yet, and the teams Preventers (id 1) and Z-Force (id 2)."""
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    heroes_session.add_all(
        [
            hero,
            Team(name="Preventers", headquarters="Sharp Tower"),
            Team(name="Z-Force", headquarters="Sister Margaret's Bar"),
        ]
    )
    heroes_session.commit()
    return hero


def team(session: Session, name: str) -> Team:
    return session.scalars(select(Team).where(Team.name == name)).one()


def test_both_paths_in_one_session_store_both_and_agree_once_expired(
    heroes_session: Session, deadpond: Hero
) -> None:
    """Each path's loaded collection misses the other's changes until it is expired.

    As SQLAlchemy documents for this combination: a commit expires
    everything, and ``session.expire()`` does it sooner.
    """
    preventers, z_force = team(heroes_session, "Preventers"), team(heroes_session, "Z-Force")
    assert (deadpond.teams, deadpond.team_links) == ([], [])
    deadpond.teams.append(preventers)
    heroes_session.add(HeroTeamLink(hero=deadpond, team=z_force, is_training=True))
    heroes_session.flush()

    assert deadpond.teams == [preventers]
    assert [link.team for link in deadpond.team_links] == [z_force]
    heroes_session.expire(deadpond, ["teams", "team_links"])
    assert sorted(t.name for t in deadpond.teams) == ["Preventers", "Z-Force"]
    assert {link.team.name: link.is_training for link in deadpond.team_links} == {
        "Preventers": False,
        "Z-Force": True,
    }
    heroes_session.commit()
    assert memberships(heroes_session) == {
        ("Deadpond", "Preventers"): False,
        ("Deadpond", "Z-Force"): True,
    }


def test_the_same_membership_through_both_paths_is_refused_at_the_flush(
    heroes_session: Session, deadpond: Hero
) -> None:
    """Two INSERTs of one primary key: the database refuses the second, nothing is kept."""
    preventers = team(heroes_session, "Preventers")
    deadpond.teams.append(preventers)
    heroes_session.add(HeroTeamLink(hero=deadpond, team=preventers, is_training=True))
    with pytest.raises(IntegrityError, match="heroteamlink"):
        heroes_session.commit()
    heroes_session.rollback()

    assert memberships(heroes_session) == {}
    assert deadpond.teams == []
    heroes_session.add(HeroTeamLink(hero=deadpond, team=preventers, is_training=True))
    heroes_session.commit()
    assert memberships(heroes_session) == {("Deadpond", "Preventers"): True}


def test_a_membership_removed_through_one_path_cannot_be_changed_through_the_other(
    heroes_session: Session, deadpond: Hero
) -> None:
    """The link's UPDATE finds no row once ``Hero.teams`` deleted it: refused, nothing kept."""
    preventers = team(heroes_session, "Preventers")
    heroes_session.add(HeroTeamLink(hero=deadpond, team=preventers))
    heroes_session.commit()
    (link,) = deadpond.team_links

    deadpond.teams.remove(preventers)
    link.is_training = True
    with pytest.raises(StaleDataError, match="UPDATE statement on table 'heroteamlink'"):
        heroes_session.commit()
    heroes_session.rollback()
    assert memberships(heroes_session) == {("Deadpond", "Preventers"): False}


# --- the demo ------------------------------------------------------------------------


@pytest.mark.usefixtures("heroes_restart_identities")
def test_the_flow_runs_in_the_plugins_session_and_leaves_its_memberships(
    heroes_session: Session,
) -> None:
    """The flow closes its session half way, as the tutorial's first function ends."""
    out = io.StringIO()
    link_model_flow(heroes_session, out)
    on_mysql = heroes_session.get_bind().dialect.name in {"mysql", "mariadb"}
    expected = LINK_MODEL_LINES_ON_MYSQL if on_mysql else LINK_MODEL_LINES
    assert out.getvalue().splitlines() == expected
    assert memberships(heroes_session) == {
        ("Deadpond", "Z-Force"): False,
        ("Deadpond", "Preventers"): True,
        ("Spider-Boy", "Preventers"): False,
        ("Spider-Boy", "Z-Force"): True,
        ("Rusty-Man", "Preventers"): False,
    }


# --- validation (heroes_sa.validation, through the Validated base) ------------------


def test_the_head_models_check_values_as_0003_does() -> None:
    with pytest.raises(InvalidValueError, match=r"Hero\.age must be an int"):
        Hero(name="Deadpond", secret_name="Dive Wilson", age="old")


def test_a_link_naming_a_deleted_hero_is_refused(heroes_session: Session) -> None:
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    heroes_session.add_all([hero, preventers])
    heroes_session.commit()
    heroes_session.delete(hero)
    heroes_session.commit()
    with pytest.raises(InvalidValueError, match=r"HeroTeamLink\.hero: .*has been deleted"):
        HeroTeamLink(team=preventers, hero=hero)


def test_a_refused_link_is_left_in_no_collection(heroes_session: Session) -> None:
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    heroes_session.add_all([hero, preventers])
    heroes_session.commit()
    heroes_session.delete(hero)
    heroes_session.commit()
    with pytest.raises(InvalidValueError):
        HeroTeamLink(team=preventers, hero=hero)
    # Without an autoflush, which would warn that it skips the half-made link.
    with heroes_session.no_autoflush:
        assert preventers.hero_links == []


def test_a_link_is_given_its_hero_by_the_collection_it_joins(heroes_session: Session) -> None:
    """The association object idiom of SQLAlchemy's docs: the hero comes with the append."""
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    hero.team_links.append(HeroTeamLink(team=preventers, is_training=True))
    heroes_session.add(hero)
    heroes_session.commit()
    assert memberships(heroes_session) == {("Deadpond", "Preventers"): True}


def test_a_link_saved_with_no_hero_is_refused_before_the_insert(heroes_session: Session) -> None:
    link = HeroTeamLink(team=Team(name="Preventers", headquarters="Sharp Tower"))
    heroes_session.add(link)
    with pytest.raises(
        InvalidValueError,
        match=r"HeroTeamLink\.hero_id is required; got None: give"
        r" HeroTeamLink\(.*\) its hero before it is saved",
    ):
        heroes_session.flush()
    heroes_session.rollback()
    assert memberships(heroes_session) == {}


@pytest.mark.parametrize("value", ["yes", 1])
def test_is_training_must_be_a_bool(value: Any) -> None:
    team = Team(name="Preventers", headquarters="Sharp Tower")
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    with pytest.raises(InvalidValueError, match=r"HeroTeamLink\.is_training must be a bool"):
        HeroTeamLink(team=team, hero=hero, is_training=value)
    assert (team.hero_links, hero.team_links) == ([], [])


def test_appending_a_link_its_team_already_lists_is_refused() -> None:
    """back_populates listed it already; a list collection would hold it twice."""
    hero = Hero(name="Spider-Boy", secret_name="Pedro Parqueador")
    z_force = Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    link = HeroTeamLink(team=z_force, hero=hero, is_training=True)
    with pytest.raises(InvalidValueError, match=r"hero_links already holds HeroTeamLink"):
        z_force.hero_links.append(link)
    assert z_force.hero_links == [link]


def test_a_second_link_for_the_same_hero_and_team_is_refused() -> None:
    hero = Hero(name="Deadpond", secret_name="Dive Wilson")
    preventers = Team(name="Preventers", headquarters="Sharp Tower")
    HeroTeamLink(hero=hero, team=preventers)
    with pytest.raises(InvalidValueError, match=r"already links Team\(.*Preventers.*Deadpond"):
        HeroTeamLink(hero=hero, team=preventers, is_training=True)


def test_is_training_cannot_be_set_to_none_on_a_stored_link(heroes_session: Session) -> None:
    link = HeroTeamLink(
        hero=Hero(name="Deadpond", secret_name="Dive Wilson"),
        team=Team(name="Preventers", headquarters="Sharp Tower"),
    )
    heroes_session.add(link)
    heroes_session.commit()
    with pytest.raises(InvalidValueError, match=r"HeroTeamLink\.is_training"):
        link.is_training = None  # type: ignore[assignment]
