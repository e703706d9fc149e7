"""Telling counselors that a family needs them: an outbox in the database, then notifiers.

A notification is written in the same transaction as the ticket change it
announces (:func:`enqueue`), so neither a crash nor a slow messaging service can
lose or delay the ticket itself. :func:`dispatch` later hands unsent rows to every
registered :class:`Notifier` (Telegram implements one) and marks them sent; a row
whose notifier fails stays unsent and is retried on the next watch tick.

Several gateways may run :func:`dispatch` at once. Each first claims its rows with
one conditional update (a lease in ``claimed_until``), so a notice goes out through
one gateway only; a gateway that dies mid-delivery leaves its claim to run out, and
another one then retries the row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from handoff.models import Notification, Ticket
from helpline.db import transaction, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
CLAIM_LEASE = timedelta(seconds=60)
"""How long a claimed notice is left to its gateway: far longer than a Telegram send with retries."""


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


def claim(session: Session, now: datetime, limit: int = 100) -> list[Notice]:
    """Take up to ``limit`` unsent notices that nobody holds, oldest first, leased until ``now`` + lease.

    One statement, so two gateways claiming at once never get the same row: PostgreSQL skips
    rows another claim has locked, SQLite runs one writer at a time, and the outer condition
    is checked again on the row it updates.
    """
    free = (
        Notification.sent_at.is_(None),
        Notification.attempts < MAX_ATTEMPTS,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    )
    candidates = (
        select(Notification.id)
        .where(*free)
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(Notification)
        .where(Notification.id.in_(candidates), *free)
        .values(claimed_until=now + CLAIM_LEASE)
        .returning(Notification)
        .execution_options(synchronize_session=False)
    )
    return sorted((_notice(row) for row in claimed), key=lambda notice: notice.id)


def _notice(row: Notification) -> Notice:
    return Notice(row.id, row.ticket_id, row.kind, row.audience, row.priority, row.created_at)


async def dispatch(sessions: sessionmaker[Session], notifiers: Sequence[Notifier]) -> int:
    """Claim the unsent notices, send each through every notifier, record it; returns how many went out."""
    with transaction(sessions) as session:
        notices = claim(session, utcnow())
    sent = 0
    for notice in notices:
        delivered = await _deliver(notice, notifiers)
        outcome = {"sent_at": utcnow()} if delivered else {"attempts": Notification.attempts + 1}
        with transaction(sessions) as session:
            session.execute(
                update(Notification)
                .where(Notification.id == notice.id, Notification.sent_at.is_(None))
                .values(claimed_until=None, **outcome)
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
