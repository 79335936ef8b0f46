"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

A migration is a snapshot in time: it never imports heroes_sa's models, whose
shape belongs to the newest revision only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    """${message}"""
    ${upgrades if upgrades else "pass"}


def check_downgrade(bind: sa.Connection) -> None:
    """Refuse, naming them, rows that downgrade() could not carry back.

    env.py calls this, on the live connection, before the first step of any
    downgrade that will undo this revision, so a refusal comes before any DDL
    (MariaDB commits DDL as it goes).  Raise
    heroes_sa.errors.MigrationRefusedError naming the rows; return when
    downgrade() loses nothing it should keep.  See docs/MIGRATIONS.md,
    "Writing a revision".
    """


def downgrade() -> None:
    """Undo: ${message}"""
    ${downgrades if downgrades else "pass"}
