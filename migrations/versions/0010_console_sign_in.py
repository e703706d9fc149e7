"""users.password_hash and console_sessions: signing in to the web console

Existing users have no password (NULL) and cannot sign in to the console until
`helpline users passwd NAME` gives them one; their bearer tokens work as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as table:
        table.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_sessions") as table:
        table.create_index("ix_console_sessions_user_id", ["user_id"], unique=False)
        table.create_index("ix_console_sessions_last_seen_at", ["last_seen_at"], unique=False)


def downgrade() -> None:
    op.drop_table("console_sessions")
    with op.batch_alter_table("users") as table:
        table.drop_column("password_hash")
