"""Telling counselors that a family needs them: an outbox in the database, then notifiers.

A notification is written in the same transaction as the ticket change it
announces (:func:`enqueue`), so neither a crash nor a slow messaging service can
lose or delay the ticket itself. :func:`dispatch` later hands unsent rows to every
registered :class:`Notifier` (Telegram implements one) and marks them sent; a row
whose notifier fails stays unsent and is retried on the next watch tick.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff.models import Notification, Ticket
from helpline.db import transaction, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20


class Kind(StrEnum):
    NEW_TICKET = "new_ticket"
    PRIORITY_RAISED = "priority_raised"
    TRANSFERRED = "transferred"
    RETURNED = "returned"
    """A counselor put a claimed ticket back in the queue."""
    UNCLAIMED = "unclaimed"


ON_CALL = "on_call"
SUPERVISOR = "supervisor"


def counselor(name: str) -> str:
    """The audience of one counselor, e.g. the one a ticket was transferred to."""
    return f"counselor:{name}"


@dataclass(frozen=True)
class Notice:
    """What a notifier gets: ids and kinds only, never the family's words."""

    id: int
    ticket_id: int
    kind: str
    audience: str
    priority: str
    created_at: datetime


class Notifier(Protocol):
    """Delivers a notice to people (a Telegram group, a pager…); raises when it could not."""

    async def notify(self, notice: Notice) -> None: ...


class LogNotifier:
    """The default: the outbox row is the record, and the log says a notice went out."""

    async def notify(self, notice: Notice) -> None:
        log.info(
            "handoff notice %s: %s for %s, ticket %s (%s)",
            notice.id,
            notice.kind,
            notice.audience,
            notice.ticket_id,
            notice.priority,
        )


def enqueue(session: Session, ticket: Ticket, kind: Kind, audience: str) -> Notification:
    """Record that ``audience`` must hear about ``ticket``; delivered by :func:`dispatch`."""
    row = Notification(
        ticket_id=ticket.id, kind=kind.value, audience=audience, priority=ticket.priority, created_at=utcnow()
    )
    session.add(row)
    return row


def pending(session: Session, limit: int = 100) -> list[Notice]:
    query = (
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.attempts < MAX_ATTEMPTS)
        .order_by(Notification.id)
        .limit(limit)
    )
    return [_notice(row) for row in session.scalars(query)]


def _notice(row: Notification) -> Notice:
    return Notice(row.id, row.ticket_id, row.kind, row.audience, row.priority, row.created_at)


async def dispatch(sessions: sessionmaker[Session], notifiers: Sequence[Notifier]) -> int:
    """Send every unsent notice through every notifier; returns how many were sent."""
    with sessions() as session:
        notices = pending(session)
    sent = 0
    for notice in notices:
        delivered = await _deliver(notice, notifiers)
        with transaction(sessions) as session:
            values = {"sent_at": utcnow()} if delivered else {"attempts": Notification.attempts + 1}
            session.execute(
                update(Notification)
                .where(Notification.id == notice.id, Notification.sent_at.is_(None))
                .values(**values)
            )
        sent += delivered
    return sent


async def _deliver(notice: Notice, notifiers: Sequence[Notifier]) -> bool:
    try:
        for notifier in notifiers:
            await notifier.notify(notice)
    except Exception:
        log.exception("notice %s not delivered; retrying on the next tick", notice.id)
        return False
    return True
