"""Every message to and from a family, stored before anything else happens.

The store is the record of a conversation: counselors read transcripts from it,
web clients poll it by cursor, and a crash after storing loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpline.db import Base, utcnow


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Author(StrEnum):
    FAMILY = "family"
    BOT = "bot"
    COUNSELOR = "counselor"
    SYSTEM = "system"


AUTHOR_LABELS = {
    Author.FAMILY.value: "家属",
    Author.BOT.value: "助手",
    Author.COUNSELOR.value: "咨询师",
    Author.SYSTEM.value: "系统",
}
"""Who said a message, as counselors' screens (the Telegram desk, the web console) name them."""


class Message(Base):
    """One message; its id is the cursor clients poll with."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_sender_id", "sender", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def record(
    session: Session,
    *,
    sender: str,
    channel: str,
    direction: Direction,
    author: Author,
    text: str,
    payload: dict[str, Any] | None = None,
) -> Message:
    """Add a message to the session and flush so its id (the cursor) is known."""
    message = Message(
        sender=sender,
        channel=channel,
        direction=direction.value,
        author=author.value,
        text=text,
        payload=payload,
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def since(
    session: Session, sender: str, after: int = 0, limit: int = 200, channel: str | None = None
) -> list[Message]:
    """Messages of one conversation after a cursor, oldest first; of one channel only, if given."""
    query = select(Message).where(Message.sender == sender, Message.id > after)
    if channel is not None:
        query = query.where(Message.channel == channel)
    return list(session.scalars(query.order_by(Message.id).limit(limit)))


def erase_before(session: Session, cutoff: datetime) -> int:
    """Blank the text and payload of every message older than ``cutoff``; returns how many.

    The rows stay (ids are polling cursors, counts are statistics); what a family or a
    counselor wrote goes.
    """
    result = session.execute(
        update(Message)
        .where(Message.created_at < cutoff, (Message.text != "") | Message.payload.is_not(None))
        .values(text="", payload=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
