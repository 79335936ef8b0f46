"""Create the one-to-many schema: team, and hero with a team_id.

Revision ID: 0001_one_to_many
Revises:
Create Date: 2026-11-21

The same tables SQLModel's ``create_all`` builds for the tutorial's
one-to-many models, with constraint names from heroes_sa's naming convention.
A database made by that ``create_all`` already has this schema: adopt it with
``alembic stamp 0001_one_to_many`` (see README).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_one_to_many"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain VARCHAR as SQLModel creates it; MySQL/MariaDB require a length.
STRING = sa.String().with_variant(sa.String(255), "mysql", "mariadb")


def upgrade() -> None:
    """Create ``team`` and ``hero`` with their indexes."""
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", STRING, nullable=False),
        sa.Column("headquarters", STRING, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team")),
    )
    op.create_index(op.f("ix_team_name"), "team", ["name"])
    op.create_table(
        "hero",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", STRING, nullable=False),
        sa.Column("secret_name", STRING, nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], name=op.f("fk_hero_team_id_team")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hero")),
    )
    op.create_index(op.f("ix_hero_name"), "hero", ["name"])
    op.create_index(op.f("ix_hero_age"), "hero", ["age"])


def check_downgrade(bind: sa.Connection) -> None:
    """Nothing to refuse: going to base drops both tables, rows and all, by design."""


def downgrade() -> None:
    """Drop ``hero`` and ``team``, and everything in them."""
    op.drop_index(op.f("ix_hero_age"), table_name="hero")
    op.drop_index(op.f("ix_hero_name"), table_name="hero")
    op.drop_table("hero")
    op.drop_index(op.f("ix_team_name"), table_name="team")
    op.drop_table("team")
