"""Give each membership an is_training flag: the tutorial's link model with extra fields.

Revision ID: 0004_link_is_training
Revises: 0003_link_hero_id_index
Create Date: 2026-11-22

Upgrade adds ``heroteamlink.is_training``, BOOLEAN NOT NULL with a server
default of false: every existing membership becomes "not training", and
``INSERT INTO heroteamlink (team_id, hero_id)``, which is what
``Hero.teams`` sends, keeps working.  Downgrade drops the column, but refuses,
naming them, while any membership is in training: that fact has nowhere to go
below this revision.  The check reads the data before any DDL, so a refusal
leaves the database untouched even on MariaDB, where DDL is not transactional.
SQLite drops the column in place from version 3.35 on, so the table keeps its
exact definition; an older SQLite has the table rebuilt by batch mode.

A migration is a snapshot in time: it never imports heroes_sa's models, whose
shape belongs to the newest revision only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from heroes_sa.errors import MigrationError, MigrationRefusedError

revision: str = "0004_link_is_training"
down_revision: str | Sequence[str] | None = "0003_link_hero_id_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The SQLite version whose ALTER TABLE drops a column in place.
SQLITE_DROP_COLUMN = (3, 35, 0)

# Lightweight table stand-ins, as they are at this point in history.
hero = sa.table("hero", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
team = sa.table("team", sa.column("id", sa.Integer()), sa.column("name", sa.String()))
link = sa.table(
    "heroteamlink",
    sa.column("team_id", sa.Integer()),
    sa.column("hero_id", sa.Integer()),
    sa.column("is_training", sa.Boolean()),
)


def upgrade() -> None:
    """Add ``heroteamlink.is_training``, false for every existing membership."""
    op.add_column(
        "heroteamlink",
        sa.Column("is_training", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def check_downgrade(bind: sa.Connection) -> None:
    """Refuse, naming them, memberships whose ``is_training`` is true.

    env.py calls this before the first step of any downgrade that will undo
    this revision, so the refusal comes before any DDL (MariaDB commits DDL as
    it goes).
    """
    training = bind.execute(
        sa.select(link.c.hero_id, hero.c.name, link.c.team_id, team.c.name)
        # Outer joins: a link naming no hero or team (a database SQLite never
        # checked) is named too, not dropped unseen.
        .select_from(link.outerjoin(hero, hero.c.id == link.c.hero_id))
        .outerjoin(team, team.c.id == link.c.team_id)
        .where(link.c.is_training)
        .order_by(link.c.hero_id, link.c.team_id)
    ).all()
    if training:
        found = ", ".join(
            f"hero {hero_id} {hero_name!r} in team {team_id} {team_name!r}"
            for hero_id, hero_name, team_id, team_name in training
        )
        raise MigrationRefusedError(
            f"cannot downgrade below {revision}: heroteamlink.is_training would be dropped,"
            f" and these memberships are in training: {found}"
        )


def downgrade() -> None:
    """Drop ``heroteamlink.is_training``, once no membership is in training."""
    if context.is_offline_mode():
        raise MigrationError(
            f"revision {revision} checks the data before dropping is_training, which needs"
            " a live database; run it online instead of with --sql"
        )
    bind = op.get_bind()
    version = bind.dialect.server_version_info or ()
    if bind.dialect.name == "sqlite" and version < SQLITE_DROP_COLUMN:
        # Batch mode rebuilds the table instead: copy, drop, rename.
        with op.batch_alter_table("heroteamlink") as batch:
            batch.drop_column("is_training")
    else:
        op.drop_column("heroteamlink", "is_training")
