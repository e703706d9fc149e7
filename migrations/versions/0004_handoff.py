"""hand-off queue: tickets, events, risk signals, conversation state, follow-ups, notification outbox

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helpline.db

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    op.create_table(
        "handoff_conversations",
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("safety_asked_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rasa_reset_pending", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("sender"),
    )
    op.create_table(
        "handoff_signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_signals_sender", "handoff_signals", ["sender", "id"])
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("opened_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_message_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_message_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("close_announced", sa.Boolean(), nullable=False),
        sa.Column("last_contact_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checkins", sa.Integer(), nullable=False),
        sa.Column("lines_given_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lines_repeats", sa.Integer(), nullable=False),
        sa.Column("supervisor_notified_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_tickets_queue", "handoff_tickets", ["status", "rank", "opened_at"])
    op.create_index("ix_handoff_tickets_sender", "handoff_tickets", ["sender", "status"])
    op.create_index(
        "uq_handoff_tickets_open_sender",
        "handoff_tickets",
        ["sender"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_events_ticket", "handoff_events", ["ticket_id", "id"])
    op.create_table(
        "handoff_followups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("due_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("callback_ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_followups_due", "handoff_followups", ["done_at", "due_at"])
    op.create_table(
        "handoff_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("audience", sa.String(length=80), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("created_at", helpline.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", helpline.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handoff_notifications_unsent", "handoff_notifications", ["sent_at", "id"])


def downgrade() -> None:
    op.drop_table("handoff_notifications")
    op.drop_table("handoff_followups")
    op.drop_table("handoff_events")
    op.drop_table("handoff_tickets")
    op.drop_table("handoff_signals")
    op.drop_table("handoff_conversations")
