"""Tables of the human hand-off: tickets in the queue and what happened to them.

Everything a waiting family depends on lives here, in the database, so a gateway
restart loses neither a ticket nor its place in the queue. Family and counselor
messages themselves stay in ``messages`` (the one record of a conversation);
tickets point into it by message id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.risk import RiskLevel
from helpline.db import Base, utcnow


class Status(StrEnum):
    WAITING = "waiting"
    ACTIVE = "active"
    CLOSED = "closed"


class Priority(StrEnum):
    """Why a family is in the queue; the queue is ordered by :attr:`rank`, highest first."""

    CRISIS = "crisis"
    EMERGENCY = "emergency"
    DISTRESS = "distress"
    REQUESTED = "requested"
    CALLBACK = "callback"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    @classmethod
    def for_risk(cls, level: RiskLevel) -> Priority | None:
        """The priority a risk level opens a ticket at; None when it does not open one by itself."""
        return {
            RiskLevel.CRISIS: cls.CRISIS,
            RiskLevel.EMERGENCY: cls.EMERGENCY,
            RiskLevel.DISTRESS: cls.DISTRESS,
        }.get(level)


_PRIORITY_RANK = {
    Priority.CRISIS: 5,
    Priority.EMERGENCY: 4,
    Priority.DISTRESS: 3,
    Priority.REQUESTED: 2,
    Priority.CALLBACK: 1,
}

OPEN_STATUSES = (Status.WAITING.value, Status.ACTIVE.value)


class Ticket(Base):
    """One family's stay in the hand-off, from joining the queue to going back to the bot.

    A partial unique index keeps at most one open ticket per family, so two messages
    racing to open one end up on the same ticket. The watch-loop columns
    (``last_contact_at`` … ``supervisor_notified_at``) make check-ins idempotent
    across restarts and across several gateway processes.
    """

    __tablename__ = "handoff_tickets"
    __table_args__ = (
        Index("ix_handoff_tickets_queue", "status", "rank", "opened_at"),
        Index("ix_handoff_tickets_sender", "sender", "status"),
        Index(
            "uq_handoff_tickets_open_sender",
            "sender",
            unique=True,
            sqlite_where=text("status != 'closed'"),
            postgresql_where=text("status != 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=Status.WAITING.value)
    priority: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_message_id: Mapped[int | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_message_id: Mapped[int | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(64), default=None)
    close_announced: Mapped[bool] = mapped_column(default=False)
    last_contact_at: Mapped[datetime] = mapped_column(default=utcnow)
    checkins: Mapped[int] = mapped_column(Integer, default=0)
    lines_given_at: Mapped[datetime | None] = mapped_column(default=None)
    lines_repeats: Mapped[int] = mapped_column(Integer, default=0)
    supervisor_notified_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def priority_enum(self) -> Priority:
        return Priority(self.priority)


class Event(Base):
    """A step in a ticket's life (opened, escalated, claimed, note, check-in, closed…).

    Notes are private to counselors; events never go to the family.
    """

    __tablename__ = "handoff_events"
    __table_args__ = (Index("ix_handoff_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class Signal(Base):
    """A risk or intent signal about one family message, kept for the counselor's summary.

    Kept per family rather than per ticket: signals raised before the ticket opened
    (a distress message, Rasa's intent) are exactly what the counselor needs to see.
    """

    __tablename__ = "handoff_signals"
    __table_args__ = (Index("ix_handoff_signals_sender", "sender", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int | None] = mapped_column(default=None)
    source: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(200), default="")
    sentence: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """Per-family hand-off state that outlives a single message.

    ``safety_asked_at``: the bot asked the direct safety question and awaits the answer.
    ``rasa_reset_pending``: a closed ticket asked for a fresh Rasa tracker and Rasa
    was down at the time; the router retries before the next message reaches Rasa.
    ``pending_offer``: the payload of the one button the bot's last words offered (a
    person, an intake); a "yes" typed in everyday words presses it.
    """

    __tablename__ = "handoff_conversations"

    sender: Mapped[str] = mapped_column(String(128), primary_key=True)
    safety_asked_at: Mapped[datetime | None] = mapped_column(default=None)
    rasa_reset_pending: Mapped[bool] = mapped_column(default=False)
    pending_offer: Mapped[str | None] = mapped_column(String(200), default=None)


class FollowUp(Base):
    """A promised call-back; when due, the watch loop puts the family back in the queue."""

    __tablename__ = "handoff_followups"
    __table_args__ = (Index("ix_handoff_followups_due", "done_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_tickets.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    callback_ticket_id: Mapped[int | None] = mapped_column(default=None)


class Notification(Base):
    """An outbox row: someone (on-call counselors, a supervisor, one counselor) must be told.

    Written in the same transaction as the change it announces, so a crash cannot
    lose it; the watch loop hands unsent rows to the notifiers and marks them sent.
    Rows hold ids and kinds only, never what the family wrote. ``claimed_until`` is the
    lease of the gateway delivering it now, so a second gateway leaves the row alone
    and a dead one's rows are taken back once the lease runs out.
    """

    __tablename__ = "handoff_notifications"
    __table_args__ = (Index("ix_handoff_notifications_unsent", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(80))
    priority: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)


class OnDuty(Base):
    """A counselor who is on duty now: the wait estimates families hear count these rows.

    Keyed by the counselor's name, the same name tickets are claimed by; going off duty
    deletes the row, so "who is on duty" is one table read.
    """

    __tablename__ = "handoff_on_duty"

    counselor: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(default=utcnow)
