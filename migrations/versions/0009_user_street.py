"""users: the 街道 a street office's staff user works for (it decides which of its cases they see)

Nullable: only street_office staff have one, and those made before this revision get
theirs with `helpline users department NAME street_office --street 街道`; until then
they see no case.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("street", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("street")
