"""handoff_on_duty: which counselors are on duty, for the queue page and the wait estimates

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handoff_on_duty",
        sa.Column("counselor", sa.String(length=64), nullable=False),
        sa.Column("since", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("counselor"),
    )


def downgrade() -> None:
    op.drop_table("handoff_on_duty")
