"""users: the department a staff user belongs to (it decides which cases they see)

Nullable: counselors and admins have none, and staff accounts made before this
revision get theirs with `helpline users department NAME ID`; until then they see no case.

Revision ID: 0008
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("department", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.drop_column("department")
