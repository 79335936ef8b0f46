"""The fast path for loading many heroes, teams and memberships at once.

Creating heroes the tutorial's way, ``Hero(teams=[...])`` and one commit, builds
an ORM object per row and has the unit of work send one INSERT per hero and per
team: SQLite cannot hand back the ids of a batched INSERT in a guaranteed order,
and the link rows need every hero's id.  That is right for a handful of rows and
slow for an import (see docs/PERFORMANCE.md).

:func:`bulk_create` is for imports and test data.  It takes plain mappings,
checks all of them before it sends anything, then writes each table with a
single executemany ``INSERT`` (SQLAlchemy's ``insert()`` through the session).
The ids are known without reading anything back: on SQLite the new rows are
numbered from the largest id in the table up, as SQLite itself would number
them; elsewhere the ids come from ``RETURNING`` in parameter order, which
SQLAlchemy batches where the backend allows.

The rows written are the ones the ORM would write for the same heroes, teams and
memberships.  What is skipped is the objects: nothing enters the session's
identity map, so load the rows by the returned ids to work with them as
``Hero`` and ``Team``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NotRequired, TypedDict

from sqlalchemy import Table, func, insert, inspect, select
from sqlalchemy.orm import Session

from heroes_sa.base import shown
from heroes_sa.errors import InvalidValueError
from heroes_sa.many_to_many import Base, Hero, HeroTeamLink, Team
from heroes_sa.validation import RowRules, row_rules


class NewTeam(TypedDict):
    """A team for :func:`bulk_create` to insert: ``team``'s columns but the id."""

    name: str
    headquarters: str


class NewHero(TypedDict):
    """A hero for :func:`bulk_create` to insert: ``hero``'s columns but the id."""

    name: str
    secret_name: str
    age: NotRequired[int | None]


@dataclass(frozen=True, slots=True)
class CreatedIds:
    """The ids behind the arguments of :func:`bulk_create`, position by position."""

    #: One per entry of ``teams``: the new team's id, or the existing id given.
    team_ids: list[int]
    #: One per entry of ``heroes``.
    hero_ids: list[int]


#: Ids per query when checking that existing teams exist, well below every
#: backend's limit on bound parameters.
_IDS_PER_QUERY: Final = 500

#: Unknown team ids a message names before it counts the rest.
_SHOWN_IDS: Final = 10

_HERO_TABLE: Final = Base.metadata.tables[Hero.__tablename__]
_TEAM_TABLE: Final = Base.metadata.tables[Team.__tablename__]
_LINK_TABLE: Final = Base.metadata.tables[HeroTeamLink.__tablename__]


def bulk_create(
    session: Session,
    *,
    heroes: Sequence[NewHero],
    teams: Sequence[NewTeam | int] = (),
    memberships: Iterable[tuple[int, int]] = (),
) -> CreatedIds:
    """Insert many heroes and teams, and put heroes in teams, in one executemany per table.

    ``teams`` entries are either a :class:`NewTeam` mapping (a team to create)
    or the ``int`` id of a team already in the database.  ``memberships`` are
    ``(hero_index, team_index)`` pairs of positions in ``heroes`` and ``teams``:
    ``(0, 2)`` puts ``heroes[0]`` in ``teams[2]``.  Returns the ids, in the
    order of the arguments.

    Everything is checked before the first statement that writes is sent,
    with the rules and messages the models use (:mod:`heroes_sa.validation`),
    this database's limits included (MariaDB's ``VARCHAR(255)``, PostgreSQL's
    32-bit ``INTEGER`` and its refusal of NUL): a malformed hero or team, an
    unknown key, a position out of range, a repeated membership or an id that
    names no team raises :class:`~heroes_sa.errors.InvalidValueError` naming
    the entry, with nothing written and the session as it was.

    The rows join the session's transaction and are committed with it, like
    anything else done through ``session``; after a database error, roll the
    session back as usual.  Nothing is added to the identity map.  With
    ``Hero(teams=[...])`` and one commit, the same heroes, teams and memberships
    give the same rows.
    """
    dialect = session.get_bind(Hero).dialect
    team_rows, existing_team_ids = _check_teams(teams, row_rules(inspect(Team), dialect))
    hero_rows = _check_heroes(heroes, row_rules(inspect(Hero), dialect))
    same_team = list(range(len(teams)))
    first_position: dict[int, int] = {}
    for position, team_id in existing_team_ids.items():
        same_team[position] = first_position.setdefault(team_id, position)
    pairs = _check_memberships(memberships, len(heroes), same_team)
    _check_teams_exist(session, existing_team_ids)

    team_ids = [0] * len(teams)
    for position, team_id in existing_team_ids.items():
        team_ids[position] = team_id
    new_ids = _insert(session, _TEAM_TABLE, [row for _, row in team_rows])
    for (position, _), team_id in zip(team_rows, new_ids, strict=True):
        team_ids[position] = team_id
    hero_ids = _insert(session, _HERO_TABLE, hero_rows)
    if pairs:
        session.execute(
            insert(_LINK_TABLE),
            [{"team_id": team_ids[team], "hero_id": hero_ids[hero]} for hero, team in pairs],
        )
    return CreatedIds(team_ids=team_ids, hero_ids=hero_ids)


def _numbers_ids_itself(session: Session) -> bool:
    """True where bulk_create numbers new rows itself instead of using RETURNING.

    SQLite runs an INSERT ... RETURNING of many rows one row at a time (it
    does not promise the order of returned rows), which would undo the point
    of the fast path.  It does promise how it numbers a row inserted without
    an id: one more than the largest id in the table, which this transaction
    holds steady once it writes.
    """
    return session.get_bind(Hero).dialect.name == "sqlite"


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` with one executemany; their ids, in order."""
    if not rows:
        return []
    if _numbers_ids_itself(session):
        first = (session.scalar(select(func.max(table.c.id))) or 0) + 1
        for offset, row in enumerate(rows):
            row["id"] = first + offset
        session.execute(insert(table), rows)
        return list(range(first, first + len(rows)))
    returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(returning, rows))


def _check_heroes(heroes: Sequence[NewHero], rules: RowRules) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    append = rows.append
    check = rules.check
    for index, hero in enumerate(heroes):
        if not isinstance(hero, Mapping):
            raise InvalidValueError(
                f"heroes[{index}] must be a mapping such as a dict, got {type(hero).__name__}"
            )
        append(check(f"heroes[{index}]", hero))
    return rows


def _check_teams(
    teams: Sequence[NewTeam | int], rules: RowRules
) -> tuple[list[tuple[int, dict[str, Any]]], dict[int, int]]:
    """New teams as (position, row), and existing ones as {position: id}."""
    new: list[tuple[int, dict[str, Any]]] = []
    existing: dict[int, int] = {}
    for index, team in enumerate(teams):
        if isinstance(team, int) and not isinstance(team, bool):
            existing[index] = team
            continue
        if not isinstance(team, Mapping):
            raise InvalidValueError(
                f"teams[{index}] must be a mapping such as a dict, or the int id of an"
                f" existing team, got {type(team).__name__}"
            )
        new.append((index, rules.check(f"teams[{index}]", team)))
    return new, existing


def _check_memberships(
    memberships: Iterable[tuple[int, int]], hero_count: int, same_team: list[int]
) -> list[tuple[int, int]]:
    """The (hero position, team position) pairs, each checked and each seen once.

    ``same_team[t]`` is the first position in ``teams`` naming the same team
    as position ``t`` (two positions may give the same existing id), so a
    membership repeated through either of them is caught here, not by the
    database's primary key.
    """
    team_count = len(same_team)
    pairs: list[tuple[int, int]] = []
    seen: dict[tuple[int, int], int] = {}
    for index, membership in enumerate(memberships):
        try:
            hero, team = membership
        except (TypeError, ValueError):
            raise InvalidValueError(
                f"memberships[{index}] must be a (hero index, team index) pair,"
                f" got {shown(membership)}"
            ) from None
        if not (
            type(hero) is int
            and type(team) is int
            and 0 <= hero < hero_count
            and 0 <= team < team_count
        ):
            raise InvalidValueError(
                _describe_position(f"memberships[{index}]", (hero, team), hero_count, team_count)
            )
        key = (hero, same_team[team])
        if key in seen:
            earlier = seen[key]
            same = "" if earlier == team else f", the same team as teams[{team}]"
            raise InvalidValueError(
                f"memberships[{index}]: heroes[{hero}] is already in teams[{earlier}]{same}"
            )
        seen[key] = team
        pairs.append((hero, team))
    return pairs


def _describe_position(
    where: str, pair: tuple[object, object], hero_count: int, team_count: int
) -> str:
    for value, what, count in ((pair[0], "heroes", hero_count), (pair[1], "teams", team_count)):
        if type(value) is not int:
            return f"{where}: positions are ints, got {shown(value)} ({type(value).__name__})"
        if not 0 <= value < count:
            valid = f"0 to {count - 1}" if count else f"none, {what} is empty"
            return f"{where}: {value} is not a position in {what} (valid: {valid})"
    raise AssertionError(f"{where} passed every check")  # pragma: no cover


def _check_teams_exist(session: Session, existing: dict[int, int]) -> None:
    """Raise naming every position whose team id is not in the database."""
    if not existing:
        return
    ids = sorted(set(existing.values()))
    found: set[int] = set()
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start : start + _IDS_PER_QUERY]
        found.update(session.scalars(select(Team.id).where(Team.id.in_(chunk))))
    missing = [
        f"teams[{position}] = {team_id}"
        for position, team_id in existing.items()
        if team_id not in found
    ]
    if missing:
        more = f" and {len(missing) - _SHOWN_IDS:,} more" if len(missing) > _SHOWN_IDS else ""
        raise InvalidValueError(f"no team has these ids: {', '.join(missing[:_SHOWN_IDS])}{more}")
