"""Index heroteamlink.hero_id, so a hero's teams are found without a scan.

Revision ID: 0003_link_hero_id_index
Revises: 0002_many_to_many
Create Date: 2026-11-21

The link table's primary key is ``(team_id, hero_id)``: it finds a team's
heroes, but not a hero's teams, which is what ``Hero.teams`` loads.  Without
this index SQLite scans the whole link table for every lazy load of
``hero.teams`` and for every batch of ``selectinload(Hero.teams)``, so reading
all heroes with their teams grows with the square of their number (see
docs/PERFORMANCE.md).  SQLModel's ``create_all`` does not make this index; a
database adopted from SQLModel at 0002 gets it from this revision.

A migration is a snapshot in time: it never imports heroes_sa's models, whose
shape belongs to the newest revision only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_link_hero_id_index"
down_revision: str | Sequence[str] | None = "0002_many_to_many"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On MySQL/MariaDB, InnoDB gives a foreign key an index of its own, named after
# the constraint, unless another index already serves it.
HERO_FK_OWN_INDEX = "fk_heroteamlink_hero_id_hero"


def _is_mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    """Create ``ix_heroteamlink_hero_id``."""
    op.create_index(op.f("ix_heroteamlink_hero_id"), "heroteamlink", ["hero_id"])
    if _is_mysql():
        # InnoDB drops the foreign key's own index by itself when it made it
        # implicitly (revision 0002); one that downgrade() below put back is
        # an ordinary index and stays, a duplicate of the new one: drop it.
        existing = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("heroteamlink")}
        if HERO_FK_OWN_INDEX in existing:
            op.drop_index(HERO_FK_OWN_INDEX, table_name="heroteamlink")


def check_downgrade(bind: sa.Connection) -> None:
    """Nothing to refuse: dropping an index loses no data."""


def downgrade() -> None:
    """Drop ``ix_heroteamlink_hero_id``."""
    if _is_mysql():
        # InnoDB refuses to leave the hero_id foreign key without an index:
        # put back the one it had of its own, as revision 0002 left it.
        op.create_index(HERO_FK_OWN_INDEX, "heroteamlink", ["hero_id"])
    op.drop_index(op.f("ix_heroteamlink_hero_id"), table_name="heroteamlink")
