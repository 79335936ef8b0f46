"""Recording the statements a test sends, to assert on SQL and round trips."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Statement:
    """One trip to the database: SQL text and its parameters."""

    sql: str
    params: Any
    executemany: bool

    @property
    def verb(self) -> str:
        """First keyword, upper-cased (INSERT, SELECT, SAVEPOINT...)."""
        return self.sql.split(None, 1)[0].upper()

    @property
    def table(self) -> str | None:
        """The table an INSERT/UPDATE/DELETE writes to."""
        match = re.match(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", self.sql, re.I)
        return match.group(1) if match else None


@dataclass
class SQLLog:
    """Statements sent through an engine while recording."""

    statements: list[Statement] = field(default_factory=list)

    def dml(self) -> list[Statement]:
        """The INSERT/UPDATE/DELETE/SELECT statements, without transaction control."""
        return [s for s in self.statements if s.verb in {"INSERT", "UPDATE", "DELETE", "SELECT"}]

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.statements.clear()
