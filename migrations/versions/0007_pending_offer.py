"""hand-off conversation state: the one-button offer the family's next "yes" accepts

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_conversations") as table:
        table.add_column(sa.Column("pending_offer", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_conversations") as table:
        table.drop_column("pending_offer")
