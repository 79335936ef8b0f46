"""The data every implementation loads: the same heroes, teams and memberships for all.

Deterministic, built from the size alone, so every implementation in a run (and
every run) works on identical rows.  Names reuse the tutorial's heroes and teams
with a number; ages repeat with some heroes left without one, as in the
tutorial.

Memberships are chosen so that the first hero to reach each team does so in
team order (hero 0 reaches teams 0 and 1, hero 1 team 2, ...): the ORM inserts
teams in the order it reaches them, so the ORM and the bulk paths give the very
same ids, and their tables can be compared row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Final

TEAM_COUNT: Final = 50

_HEROES: Final = (
    ("Deadpond", "Dive Wilson"),
    ("Rusty-Man", "Tommy Sharp"),
    ("Spider-Boy", "Pedro Parqueador"),
    ("Tarantula", "Natalia Roman-on"),
    ("Black Lion", "Trevor Challa"),
    ("Dr. Weird", "Steve Weird"),
    ("Captain North America", "Esteban Rogelios"),
    ("Princess Sure-E", "Sure-E"),
)
_TEAMS: Final = (
    ("Preventers", "Sharp Tower"),
    ("Z-Force", "Sister Margaret's Bar"),
    ("Wakaland", "Wakaland Capital City"),
)


@dataclass(frozen=True)
class Dataset:
    """``size`` heroes and :data:`TEAM_COUNT` teams, as plain tuples.

    Smaller data sets (smoke runs) get as many teams as heroes, at least two,
    so that every team has a member and the ORM, which only inserts the teams
    it reaches through heroes, writes them all.
    """

    size: int

    @property
    def team_count(self) -> int:
        """How many teams: :data:`TEAM_COUNT`, fewer for fewer heroes."""
        return max(2, min(TEAM_COUNT, self.size))

    @cached_property
    def teams(self) -> list[tuple[str, str]]:
        """(name, headquarters) per team."""
        return [
            (f"{_TEAMS[i % 3][0]} {i}", f"{_TEAMS[i % 3][1]} {i}") for i in range(self.team_count)
        ]

    @cached_property
    def heroes(self) -> list[tuple[str, str, int | None]]:
        """(name, secret_name, age) per hero; every seventh hero has no age."""
        return [
            (
                f"{_HEROES[i % 8][0]} {i}",
                f"{_HEROES[i % 8][1]} {i}",
                None if i % 7 == 3 else 18 + i % 80,
            )
            for i in range(self.size)
        ]

    @cached_property
    def memberships(self) -> list[tuple[int, int]]:
        """(hero position, team position): every hero in two different teams."""
        teams = self.team_count
        pairs = []
        for hero in range(self.size):
            first = hero % teams
            # An offset of 1..teams-1, never 0, so the two teams differ.
            second = (first + 1 + (hero // teams) % (teams - 1)) % teams
            pairs.append((hero, first))
            pairs.append((hero, second))
        return pairs

    @cached_property
    def teams_of(self) -> list[list[int]]:
        """Team positions per hero, in membership order."""
        result: list[list[int]] = [[] for _ in range(self.size)]
        for hero, team in self.memberships:
            result[hero].append(team)
        return result

    @cached_property
    def team_of_one_to_many(self) -> list[int]:
        """The one team per hero for the one-to-many schema (revision 0001)."""
        return [hero % self.team_count for hero in range(self.size)]
