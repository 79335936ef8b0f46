"""The models' mapping and their side-effect-free repr."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import RelationshipProperty, Session

from heroes_sa import many_to_many, one_to_many
from heroes_sa.base import model_repr
from heroes_sa.testing import RecordedSQL


def test_the_two_revisions_keep_separate_metadata() -> None:
    assert one_to_many.Base.metadata is not many_to_many.Base.metadata
    assert set(one_to_many.Base.metadata.tables) == {"hero", "team"}
    assert set(many_to_many.Base.metadata.tables) == {"hero", "team", "heroteamlink"}
    assert "team_id" in one_to_many.Hero.__table__.c
    assert "team_id" not in many_to_many.Hero.__table__.c


@pytest.mark.parametrize(
    ("module", "extra"),
    # Deliberately beyond SQLModel: revision 0003 indexes heroteamlink.hero_id,
    # which the link table's (team_id, hero_id) key cannot serve (docs/PARITY.md).
    [(one_to_many, set()), (many_to_many, {"ix_heroteamlink_hero_id"})],
)
def test_index_names_match_sqlmodel(module: ModuleType, extra: set[str]) -> None:
    base = module.Base
    names = {index.name for table in base.metadata.tables.values() for index in table.indexes}
    assert names == {"ix_hero_name", "ix_hero_age", "ix_team_name"} | extra


def test_link_table_primary_key_is_its_two_foreign_keys() -> None:
    table = many_to_many.HeroTeamLink.__table__
    assert [c.name for c in table.primary_key] == ["team_id", "hero_id"]
    assert {fk.target_fullname for fk in table.foreign_keys} == {"team.id", "hero.id"}


@pytest.mark.parametrize(
    ("hero_cls", "relationship"),
    [(one_to_many.Hero, "team"), (many_to_many.Hero, "teams")],
)
def test_relationships_lazy_load_by_select(hero_cls: type, relationship: str) -> None:
    prop: RelationshipProperty[Any] = inspect(hero_cls).relationships[relationship]
    assert prop.lazy == "select"
    assert prop.back_populates == "heroes"


def test_repr_of_a_transient_hero_lists_every_column_in_table_order() -> None:
    hero = one_to_many.Hero(name="Deadpond", secret_name="Dive Wilson")
    assert repr(hero) == (
        "Hero(id=<not loaded>, name='Deadpond', secret_name='Dive Wilson',"
        " age=<not loaded>, team_id=<not loaded>)"
    )


def test_repr_of_link_rows_and_teams() -> None:
    link = many_to_many.HeroTeamLink(team_id=2, hero_id=1)
    assert repr(link) == "HeroTeamLink(team_id=2, hero_id=1)"
    team = many_to_many.Team(name="Z-Force", headquarters="Sister Margaret's Bar")
    assert repr(team) == (
        "Team(id=<not loaded>, name='Z-Force', headquarters=\"Sister Margaret's Bar\")"
    )


def test_repr_never_sends_sql_in_any_state(heroes_session: Session, sql_log: RecordedSQL) -> None:
    hero = many_to_many.Hero(name="Deadpond", secret_name="Dive Wilson", age=30)
    heroes_session.add(hero)
    assert "name='Deadpond'" in repr(hero)  # pending

    heroes_session.commit()  # expires everything
    sql_log.clear()
    assert repr(hero) == (
        "Hero(id=<not loaded>, name=<not loaded>, secret_name=<not loaded>, age=<not loaded>)"
    )
    assert sql_log.statements == []

    heroes_session.refresh(hero)
    hero_id = hero.id
    heroes_session.delete(hero)
    heroes_session.flush()
    sql_log.clear()
    assert repr(hero) == f"Hero(id={hero_id}, name='Deadpond', secret_name='Dive Wilson', age=30)"
    heroes_session.commit()
    assert inspect(hero).was_deleted
    assert "name='Deadpond'" in repr(hero)  # deleted, detached, still holding its values

    other = many_to_many.Hero(name="Rusty-Man", secret_name="Tommy Sharp")
    heroes_session.add(other)
    heroes_session.commit()
    heroes_session.expunge(other)
    sql_log.clear()
    assert inspect(other).detached
    assert repr(other).startswith("Hero(id=<not loaded>")  # detached and expired
    assert sql_log.statements == []


@pytest.mark.heroes_revision(one_to_many.REVISION)
def test_repr_says_which_columns_are_not_loaded(heroes_session: Session) -> None:
    hero = one_to_many.Hero(name="Deadpond", secret_name="Dive Wilson")
    heroes_session.add(hero)
    heroes_session.commit()
    heroes_session.refresh(hero)
    heroes_session.expire(hero, ["age", "secret_name"])
    assert repr(hero) == (
        f"Hero(id={hero.id}, name='Deadpond', secret_name=<not loaded>, age=<not loaded>,"
        " team_id=None)"
    )


def test_repr_of_an_uninitialised_instance_does_not_raise() -> None:
    hero = many_to_many.Hero.__new__(many_to_many.Hero)
    assert repr(hero).startswith("Hero(")
    assert repr(one_to_many.Team.__new__(one_to_many.Team)) == "Team(<uninitialized>)"
    assert model_repr(object()) == "object(<uninitialized>)"


def test_repr_inside_a_flush_event_sends_no_sql(heroes_engine: Engine) -> None:
    """repr is safe where loading would be fatal, such as inside a flush."""
    seen: list[str] = []
    with Session(heroes_engine) as session:

        @event.listens_for(session, "before_flush")
        def show(sess: Session, *_args: object) -> None:
            seen.extend(repr(obj) for obj in sess.new)

        session.add(many_to_many.Team(name="T", headquarters="H"))
        session.flush()
        session.rollback()
    assert seen == ["Team(id=<not loaded>, name='T', headquarters='H')"]
