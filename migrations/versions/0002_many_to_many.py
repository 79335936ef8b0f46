"""Turn one-to-many into many-to-many: heroteamlink replaces hero.team_id.

Revision ID: 0002_many_to_many
Revises: 0001_one_to_many
Create Date: 2026-11-21

Upgrade moves every ``hero.team_id`` into a link row with set-based
``INSERT ... SELECT`` statements, then drops the column.  Downgrade moves each
hero's one link back into ``team_id``; it refuses, before changing anything,
when a hero is in two or more teams, since ``team_id`` cannot hold that.  Both
check the data first and raise naming the rows they cannot carry, so a
refusal leaves the database untouched even on MariaDB, where DDL is not
transactional.

On SQLite, changing ``hero`` rebuilds it, and ``DROP TABLE`` of the old copy
deletes its rows, which SQLite refuses while link rows reference them (foreign
keys stay enforced during migrations).  So ``hero`` is rebuilt only while no
link table exists: the memberships wait in a temporary table meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from heroes_sa.errors import MigrationError, MigrationRefusedError

revision: str = "0002_many_to_many"
down_revision: str | Sequence[str] | None = "0001_one_to_many"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Lightweight table stand-ins as they are at this point in history: only the
# columns the data moves touch.
hero = sa.table(
    "hero",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("team_id", sa.Integer()),
)
team = sa.table("team", sa.column("id", sa.Integer()))
link = sa.table(
    "heroteamlink",
    sa.column("team_id", sa.Integer()),
    sa.column("hero_id", sa.Integer()),
)

# The conventional name of hero.team_id's foreign key; SQLite reflects an
# unnamed one (as SQLModel's create_all makes it) under this name too, through
# the naming convention handed to batch mode.
HERO_TEAM_FK = "fk_hero_team_id_team"
BATCH_NAMING_CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _live_bind() -> sa.Connection:
    if context.is_offline_mode():
        raise MigrationError(
            f"revision {revision} checks the data before moving it, which needs a live"
            " database; run it online instead of with --sql"
        )
    return op.get_bind()


def _describe(rows: Sequence[Sequence[Any]], detail: str) -> str:
    """``hero 2 'Deadpond' (2 teams), ...``; ``detail`` formats the third column."""
    return ", ".join(f"hero {i} {name!r} ({detail.format(value)})" for i, name, value in rows)


def _keep_aside(memberships: sa.Select[tuple[int, int]]) -> sa.Table:
    """A temporary table holding ``(team_id, hero_id)`` pairs while ``hero`` is rebuilt.

    At most one team per hero either way (hero.team_id going up, checked by
    check_downgrade() going down), so hero_id is its key: the downgrade's
    correlated UPDATE looks each hero up instead of scanning the table.
    """
    kept = op.create_table(
        "kept_membership",
        sa.Column("hero_id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        prefixes=["TEMPORARY"],
    )
    op.execute(kept.insert().from_select(["team_id", "hero_id"], memberships))
    return kept


def upgrade() -> None:
    """Move every membership into heroteamlink, and drop hero.team_id."""
    bind = _live_bind()
    dangling = bind.execute(
        sa.select(hero.c.id, hero.c.name, hero.c.team_id)
        .where(hero.c.team_id.is_not(None))
        .where(~sa.exists().where(team.c.id == hero.c.team_id))
        .order_by(hero.c.id)
    ).all()
    if dangling:
        raise MigrationRefusedError(
            f"cannot upgrade to {revision}: these heroes' team_id names no team, so there"
            f" is no membership to move: {_describe(dangling, 'team_id {}')}"
        )

    kept = _keep_aside(sa.select(hero.c.team_id, hero.c.id).where(hero.c.team_id.is_not(None)))
    # Whatever the foreign key is called in this database: ours, or the name
    # PostgreSQL/MariaDB gave an unnamed one in a database adopted from SQLModel.
    fk_names = [
        fk["name"] or HERO_TEAM_FK
        for fk in sa.inspect(bind).get_foreign_keys("hero")
        if fk["constrained_columns"] == ["team_id"]
    ]
    with op.batch_alter_table("hero", naming_convention=BATCH_NAMING_CONVENTION) as batch:
        for name in fk_names:
            batch.drop_constraint(name, type_="foreignkey")
        batch.drop_column("team_id")

    op.create_table(
        "heroteamlink",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("hero_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hero_id"], ["hero.id"], name=op.f("fk_heroteamlink_hero_id_hero")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_heroteamlink_team_id_team")
        ),
        sa.PrimaryKeyConstraint("team_id", "hero_id", name=op.f("pk_heroteamlink")),
    )
    op.execute(
        link.insert().from_select(["team_id", "hero_id"], sa.select(kept.c.team_id, kept.c.hero_id))
    )
    op.drop_table("kept_membership")


def check_downgrade(bind: sa.Connection) -> None:
    """Refuse, naming them, memberships that hero.team_id could not hold.

    A hero in two or more teams, and a link row naming a hero or team that
    does not exist (a database whose foreign keys were never enforced may
    hold some).  env.py calls this before the first step of any downgrade
    that will undo this revision, so a refusal comes before any DDL even when
    the downgrade starts from a later revision (MariaDB commits DDL as it goes).
    """
    count = sa.func.count(link.c.team_id)
    crowded = bind.execute(
        sa.select(hero.c.id, hero.c.name, count)
        .join(link, link.c.hero_id == hero.c.id)
        .group_by(hero.c.id, hero.c.name)
        .having(count > 1)
        .order_by(hero.c.id)
    ).all()
    if crowded:
        raise MigrationRefusedError(
            f"cannot downgrade below {revision}: hero.team_id holds one team per hero,"
            f" and these heroes are in more: {_describe(crowded, '{} teams')}"
        )
    dangling = bind.execute(
        sa.select(link.c.team_id, link.c.hero_id)
        .where(
            ~sa.exists().where(team.c.id == link.c.team_id)
            | ~sa.exists().where(hero.c.id == link.c.hero_id)
        )
        .order_by(link.c.team_id, link.c.hero_id)
    ).all()
    if dangling:
        found = ", ".join(f"(team_id {t}, hero_id {h})" for t, h in dangling)
        raise MigrationRefusedError(
            f"cannot downgrade below {revision}: these heroteamlink rows name no team or"
            f" no hero, so no hero.team_id can hold them: {found}"
        )


def downgrade() -> None:
    """Put each hero's one team back into hero.team_id and drop heroteamlink."""
    _live_bind()
    kept = _keep_aside(sa.select(link.c.team_id, link.c.hero_id))
    op.drop_table("heroteamlink")
    with op.batch_alter_table("hero") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f(HERO_TEAM_FK), "team", ["team_id"], ["id"])
    op.execute(
        hero.update()
        .where(hero.c.id.in_(sa.select(kept.c.hero_id)))
        .values(
            team_id=sa.select(kept.c.team_id).where(kept.c.hero_id == hero.c.id).scalar_subquery()
        )
    )
    op.drop_table("kept_membership")
