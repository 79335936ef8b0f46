"""Recording the SQL an engine sends, to assert on statements and round trips.

:func:`record_sql` listens to SQLAlchemy's ``before_cursor_execute`` event
on an :class:`~sqlalchemy.Engine` (an
:class:`~sqlalchemy.ext.asyncio.AsyncEngine` through its ``sync_engine``)
while its block runs, and hands back a :class:`RecordedSQL` holding one
:class:`RecordedStatement` per statement the driver received::

    from heroes_sa.testing import record_sql

    def test_loading_teams_is_one_select(heroes_engine, heroes_session):
        hero = ...
        with record_sql(heroes_engine) as recorded:
            hero.teams
        assert [s.verb for s in recorded.statements] == ["SELECT"]

It plays the part of flask-sqlalchemy's ``record_queries`` for code that
has no Flask application: scoped to a block and an engine rather than to an
application context.  Statements are recorded before they run, so one that
fails is recorded too; there are no timings, which belong in a benchmark.

``qmark=True`` records every statement in the form SQLite receives it, so
one assertion holds on every backend: ``?`` placeholders with the
parameters as a tuple in placeholder order (a list of tuples for an
executemany), and an insert that SQLAlchemy paged into one multi-row
statement ("insertmanyvalues", used on PostgreSQL and MySQL/MariaDB) as one
entry per row, in row order, as SQLite gets it.  PostgreSQL's drivers also
add a cast after some placeholders (``%(id)s::INTEGER``, ``$1::VARCHAR``),
which is dropped with the placeholder; casts of one-word types only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExecutionContext
from sqlalchemy.engine.interfaces import ExecuteStyle

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

#: Statements that read or write rows; everything else is transaction control
#: (BEGIN, SAVEPOINT, RELEASE, ROLLBACK TO) or settings.
DML_VERBS: Final = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})

_TABLE = re.compile(r"\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class RecordedStatement:
    """One statement as the driver received it: SQL text and parameters.

    ``sql`` has its whitespace collapsed to single spaces.  ``parameters``
    is what the driver got (a mapping, a tuple, or for an executemany a list
    of them), or in ``qmark`` form a tuple or a list of tuples.
    """

    sql: str
    parameters: Any
    executemany: bool

    @property
    def verb(self) -> str:
        """The first keyword, upper-cased: ``SELECT``, ``INSERT``, ``SAVEPOINT``..."""
        return self.sql.split(None, 1)[0].upper() if self.sql else ""

    @property
    def table(self) -> str | None:
        """The table an ``INSERT``, ``UPDATE`` or ``DELETE`` writes to, else ``None``."""
        match = _TABLE.match(self.sql)
        return match.group(1) if match else None


@dataclass
class RecordedSQL:
    """The statements recorded so far, in the order they were sent."""

    statements: list[RecordedStatement] = field(default_factory=list)

    def dml(self) -> list[RecordedStatement]:
        """The SELECT, INSERT, UPDATE and DELETE statements, without transaction control."""
        return [s for s in self.statements if s.verb in DML_VERBS]

    def selects(self) -> list[RecordedStatement]:
        """The SELECT statements: the round trips a load costs."""
        return [s for s in self.statements if s.verb == "SELECT"]

    def clear(self) -> None:
        """Forget what was recorded so far (recording goes on)."""
        self.statements.clear()


@contextmanager
def record_sql(
    bind: Engine | AsyncEngine,
    *,
    qmark: bool = False,
    include: Callable[[Connection], bool] | None = None,
) -> Iterator[RecordedSQL]:
    """Record every statement sent through ``bind`` while the block runs.

    ``bind`` is an Engine or an AsyncEngine; statements on any of its
    connections are recorded, from any thread or task.  ``qmark=True``
    records them in SQLite's form (see the module docstring).  ``include``,
    if given, is asked about the connection of each statement; those on
    connections it returns False for are left out.
    """
    engine = bind if isinstance(bind, Engine) else bind.sync_engine
    if qmark and engine.dialect.paramstyle not in _PLACEHOLDERS:
        raise ValueError(
            f"record_sql(qmark=True) cannot rewrite the {engine.dialect.paramstyle!r} paramstyle"
            f" of {engine.dialect.name}+{engine.dialect.driver}; it reads"
            f" {', '.join(sorted(_PLACEHOLDERS))}"
        )
    paramstyle = engine.dialect.paramstyle
    recorded = RecordedSQL()

    def on_execute(
        connection: Connection,
        _cursor: Any,
        statement: str,
        parameters: Any,
        context: ExecutionContext | None,
        executemany: bool,
    ) -> None:
        if include is not None and not include(connection):
            return
        sql = " ".join(statement.split())
        if not qmark:
            recorded.statements.append(RecordedStatement(sql, parameters, executemany))
            return
        recorded.statements.extend(_as_qmark(sql, parameters, executemany, context, paramstyle))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield recorded
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


# --- SQLite's form -------------------------------------------------------------

# A driver's placeholder, by DBAPI paramstyle, and the cast PostgreSQL's
# drivers may put after it: ::INTEGER, ::NUMERIC(10, 2).
_CAST: Final = r"(?:::[A-Z_]+(?:\([^)]*\))?)?"
_PLACEHOLDERS: Final = {
    "qmark": None,
    "pyformat": re.compile(r"%\((?P<key>[^)]+)\)s" + _CAST),
    "format": re.compile(r"%s" + _CAST),
    "numeric_dollar": re.compile(r"\$(?P<position>\d+)" + _CAST),
}
# The key SQLAlchemy gives row N's value in a paged insert: name__N.
_ROW_KEY: Final = re.compile(r"__(?P<row>\d+)$")


def _qmark_sql(sql: str, paramstyle: str) -> tuple[str, list[re.Match[str]]]:
    """``sql`` with the driver's placeholders as ``?``, and the placeholders in order."""
    pattern = _PLACEHOLDERS[paramstyle]
    if pattern is None:  # qmark already
        return sql, []
    found = list(pattern.finditer(sql))
    if not found:
        return sql, found
    sql = pattern.sub("?", sql)
    # The percent styles escape a literal % as %%.
    return (sql.replace("%%", "%") if paramstyle in ("pyformat", "format") else sql), found


def _values(parameters: Any, found: Sequence[re.Match[str]]) -> tuple[Any, ...]:
    """One parameter set's values in placeholder order."""
    if isinstance(parameters, Mapping):
        return tuple(parameters[m.group("key")] for m in found)
    positions = [m.groupdict().get("position") for m in found]
    if any(positions):
        return tuple(parameters[int(p) - 1] for p in positions if p is not None)
    return tuple(parameters)


def _as_qmark(
    sql: str,
    parameters: Any,
    executemany: bool,
    context: ExecutionContext | None,
    paramstyle: str,
) -> list[RecordedStatement]:
    """The statement(s) SQLite would have received instead of this one."""
    qmark_sql, found = _qmark_sql(sql, paramstyle)
    if not found:
        return [RecordedStatement(qmark_sql, parameters, executemany)]
    compiled = getattr(context, "compiled", None)
    if getattr(context, "execute_style", None) is ExecuteStyle.INSERTMANYVALUES and compiled:
        # One batch of a paged insert: split it back into its rows, each
        # written as the single-row statement the insert was compiled to.
        template, one_row = _qmark_sql(" ".join(compiled.string.split()), paramstyle)
        values = _values(parameters, found)
        if isinstance(parameters, Mapping):
            rows: dict[int, list[Any]] = {}
            for match, value in zip(found, values, strict=True):
                row = _ROW_KEY.search(match.group("key"))
                rows.setdefault(int(row.group("row")) if row else 0, []).append(value)
            per_row = [tuple(row) for _, row in sorted(rows.items())]
        else:
            width = len(one_row)
            per_row = [values[i : i + width] for i in range(0, len(values), width)]
        return [RecordedStatement(template, row, True) for row in per_row]
    if executemany:
        return [RecordedStatement(qmark_sql, [_values(p, found) for p in parameters], True)]
    return [RecordedStatement(qmark_sql, _values(parameters, found), False)]
