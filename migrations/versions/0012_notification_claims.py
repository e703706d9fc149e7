"""handoff_notifications.claimed_until: the lease of the gateway delivering a notice

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.db

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_notifications") as batch:
        batch.add_column(sa.Column("claimed_until", helpline.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoff_notifications") as batch:
        batch.drop_column("claimed_until")
