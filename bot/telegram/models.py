"""Tables of the Telegram channel: what makes it exactly-once across crashes and restarts.

Telegram itself is only a projection of the database: tickets, messages and
notes live in their own tables; these rows remember which update was handled,
which outgoing message was sent, and which forum topic shows which ticket.

Ticket ids are plain integers here, without a foreign key: this migration is a
parallel branch of the hand-off's, and a stale link to a deleted ticket is harmless.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow


class UpdateState(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    DONE = "done"


class ProcessedUpdate(Base):
    """One Telegram update, keyed on ``update_id`` so a redelivered update is handled once.

    ``body`` holds the raw update only until it is handled, so an update received
    just before a crash is replayed at start-up; then it is cleared.
    """

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(12), default=UpdateState.RECEIVED.value)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    """One message the bot must send, keyed on what it stands for (a stored message, a reply).

    A unique ``key`` makes a second attempt to queue the same message a no-op, and
    the state makes a sent message impossible to send again, even after a restart.
    ``body`` (the Bot API parameters) is cleared once sent: the text lives in ``messages``.
    """

    __tablename__ = "telegram_outbox"
    __table_args__ = (Index("ix_telegram_outbox_chat_state", "chat_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int | None] = mapped_column(default=None)
    state: Mapped[str] = mapped_column(String(12), default=OutboxState.PENDING.value)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(80), default=None)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class TopicLink(Base):
    """Which forum topic of the counselors' group shows which ticket.

    ``thread_id`` is cleared when Telegram says the topic is gone and set again when
    it is made anew; the ticket, its events and its messages are untouched by that.
    ``mirrored_message_id`` is the last message of the family already shown in the topic.
    """

    __tablename__ = "telegram_topics"

    ticket_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    name: Mapped[str] = mapped_column(String(128), default="")
    summary_message_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    mirrored_message_id: Mapped[int] = mapped_column(Integer, default=0)
    lost_count: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PinnedQueue(Base):
    """The pinned queue message of a counselors' group, edited as tickets come and go."""

    __tablename__ = "telegram_pinned_queue"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackPayload(Base):
    """A button payload too long for Telegram's 64-byte ``callback_data``, under a short key."""

    __tablename__ = "telegram_callbacks"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def insert_if_absent(session: Session, model: type[Base], **values: Any) -> bool:
    """Insert a row unless its key exists; True when this call inserted it.

    One statement (``ON CONFLICT DO NOTHING``) rather than look-then-insert, so two
    processes racing on the same update id or outbox key cannot both win. RETURNING
    tells whether a row went in (psycopg reports no row count for this statement).
    """
    table = model.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    inserted = session.execute(statement.returning(*table.primary_key.columns)).first()
    return inserted is not None
