"""Recording the statements a test sends, to assert on SQL and round trips.

The tests assert SQL as SQLite receives it: ``?`` placeholders and positional
parameters.  On PostgreSQL and MySQL/MariaDB the drivers take named
``%(name)s`` placeholders (psycopg with a ``::TYPE`` cast after each) and
SQLAlchemy pages an ORM insert of several rows into one multi-row statement
("insertmanyvalues"), where SQLite gets one statement per row.
:meth:`SQLLog.record` puts what those backends receive back into SQLite's
form, so the same assertions hold on every backend: placeholders become
``?``, parameters become tuples in placeholder order, and a paged insert is
recorded as one entry per row, in row order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import ExecutionContext
from sqlalchemy.engine.interfaces import ExecuteStyle

# %(name)s, and psycopg's cast after it: %(name)s::INTEGER, %(x)s::NUMERIC(10, 2).
# (One-word type names only: those are all the heroes tables use.)
_NAMED = re.compile(r"%\((?P<name>[^)]+)\)s(?:::[A-Z_]+(?:\([^)]*\))?)?")
# The key SQLAlchemy gives row N's value in a paged insert: name__N.
_ROW_KEY = re.compile(r"__(?P<row>\d+)$")


@dataclass
class Statement:
    """One statement the database received: SQL text and its parameters."""

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


def _qmark(sql: str) -> tuple[str, list[str]]:
    """``sql`` with named placeholders as ``?``, and the names in order."""
    names = [m.group("name") for m in _NAMED.finditer(sql)]
    if not names:
        return sql, names
    return _NAMED.sub("?", sql).replace("%%", "%"), names


@dataclass
class SQLLog:
    """Statements sent through an engine while recording."""

    statements: list[Statement] = field(default_factory=list)

    def record(
        self, sql: str, params: Any, executemany: bool, context: ExecutionContext | None
    ) -> None:
        """Add one statement as the driver got it, in SQLite's form (see the module)."""
        sql, names = _qmark(" ".join(sql.split()))
        if not names:
            self.statements.append(Statement(sql, params, executemany))
            return
        style = getattr(context, "execute_style", None)
        if style is ExecuteStyle.INSERTMANYVALUES and context is not None:
            template, _ = _qmark(" ".join(context.compiled.string.split()))  # type: ignore[union-attr]
            rows: dict[int, list[Any]] = {}
            for name in names:
                match = _ROW_KEY.search(name)
                row = int(match.group("row")) if match else 0
                rows.setdefault(row, []).append(params[name])
            for _, values in sorted(rows.items()):
                self.statements.append(Statement(template, tuple(values), True))
            return
        if executemany:
            params = [tuple(p[name] for name in names) for p in params]
        else:
            params = tuple(params[name] for name in names)
        self.statements.append(Statement(sql, params, executemany))

    def dml(self) -> list[Statement]:
        """The INSERT/UPDATE/DELETE/SELECT statements, without transaction control."""
        return [s for s in self.statements if s.verb in {"INSERT", "UPDATE", "DELETE", "SELECT"}]

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.statements.clear()
