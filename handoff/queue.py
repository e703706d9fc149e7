"""The hand-off queue: opening, escalating, claiming, transferring and closing tickets.

Order: crisis > emergency > distress > asked for a human > callback, oldest first
within a level. Every state change that two people (or two processes) could race
on is one conditional UPDATE whose row count decides the winner, which behaves the
same on SQLite and PostgreSQL. Priorities only ever go up automatically.
"""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from handoff import duty, notify, texts
from handoff.crisis import Utterance
from handoff.models import OPEN_STATUSES, Conversation, Event, FollowUp, Priority, Signal, Status, Ticket
from helpline.access_log import log_access
from helpline.messages import Author, Direction, Message, record
from intake.cases import BEIJING

RECENT_WAITS = 20
"""How many recent claims the wait estimate looks at."""

RESET_RASA_AFTER = (Priority.CRISIS.value, Priority.EMERGENCY.value)
"""Closing these resets Rasa's tracker; after the others the bot resumes where it was."""
WITHDRAWN = "withdrawn"
"""The outcome of a request for a person the family took back before anyone claimed it."""


class Outcome(StrEnum):
    """How a counselor closed a ticket; the console offers these (the API takes any short text).

    ``no_risk`` says the screen raised a false alarm, so false alarms per level can be counted.
    """

    RESOLVED = "resolved"
    REFERRED = "referred"
    NO_RISK = "no_risk"
    FAMILY_LEFT = "family_left"


CLAIM_TARGETS = {
    Priority.CRISIS: timedelta(minutes=2),
    Priority.EMERGENCY: timedelta(minutes=5),
    Priority.DISTRESS: timedelta(minutes=15),
    Priority.REQUESTED: timedelta(minutes=30),
    Priority.CALLBACK: timedelta(minutes=60),
}
"""How soon a waiting ticket of each priority should be claimed: the console's SLA colours.
A crisis past its target is also repeated the help lines and escalated by the watch loop
(``HELPLINE_HANDOFF_REPEAT_LINES_SECONDS``, ``..._SUPERVISOR_SECONDS``)."""


class Sla(StrEnum):
    OK = "ok"
    LATE = "late"
    """Past half its target."""
    OVER = "over"
    """Past its target."""


class EventKind(StrEnum):
    OPENED = "opened"
    ESCALATED = "escalated"
    CLAIMED = "claimed"
    TRANSFERRED = "transferred"
    NOTE = "note"
    CHECKIN = "checkin"
    LINES_REPEATED = "lines_repeated"
    SUPERVISOR_NOTIFIED = "supervisor_notified"
    FOLLOWUP_SCHEDULED = "followup_scheduled"
    CLOSED = "closed"


class Conflict(Exception):
    """The ticket is not in a state that allows this (claimed by someone else, already closed…)."""


class NotHolder(Exception):
    """Only the counselor holding the ticket may do this."""


def add_event(
    session: Session, ticket: Ticket, kind: EventKind, actor: str, text: str = "", **data: Any
) -> Event:
    event = Event(ticket_id=ticket.id, kind=kind.value, actor=actor, text=text, data=data or None)
    session.add(event)
    return event


def add_note(session: Session, ticket: Ticket, by: str, text: str) -> Event:
    """A private note on the ticket: counselors read it with the ticket, the family never does.

    Writing one is access-logged, as every read of the ticket is.
    """
    log_access(session, by, "note", f"handoff:{ticket.id}")
    event = add_event(session, ticket, EventKind.NOTE, by, text)
    session.flush()
    return event


def open_ticket_of(session: Session, sender: str) -> Ticket | None:
    """The family's waiting or active ticket, if any (there is at most one)."""
    query = select(Ticket).where(Ticket.sender == sender, Ticket.status.in_(OPEN_STATUSES))
    return session.scalar(query)


def get(session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id)


def open_ticket(
    session: Session,
    *,
    sender: str,
    channel: str,
    priority: Priority,
    now: datetime,
    message_id: int | None = None,
) -> tuple[Ticket, bool]:
    """Put the family in the queue, or raise their existing ticket; returns (ticket, newly opened).

    The partial unique index on open tickets makes a concurrent second open fail;
    it then joins the ticket the first one made.
    """
    existing = open_ticket_of(session, sender)
    if existing is not None:
        escalate(session, existing, priority, now)
        return existing, False
    ticket = Ticket(
        sender=sender,
        channel=channel,
        status=Status.WAITING.value,
        priority=priority.value,
        rank=priority.rank,
        opened_at=now,
        opened_message_id=message_id,
        last_contact_at=now,
    )
    try:
        with session.begin_nested():
            session.add(ticket)
    except IntegrityError:
        existing = open_ticket_of(session, sender)
        if existing is None:
            raise
        escalate(session, existing, priority, now)
        return existing, False
    add_event(session, ticket, EventKind.OPENED, "bot", priority=priority.value)
    notify.enqueue(session, ticket, notify.Kind.NEW_TICKET, notify.ON_CALL)
    return ticket, True


def escalate(session: Session, ticket: Ticket, priority: Priority, now: datetime) -> bool:
    """Raise the ticket to ``priority`` if that is higher; never lowers. True when raised."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.rank < priority.rank, Ticket.status.in_(OPEN_STATUSES))
        .values(priority=priority.value, rank=priority.rank)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    previous = ticket.priority
    session.refresh(ticket)
    add_event(session, ticket, EventKind.ESCALATED, "bot", previous=previous, priority=priority.value)
    audience = notify.counselor(ticket.claimed_by) if ticket.claimed_by else notify.ON_CALL
    notify.enqueue(session, ticket, notify.Kind.PRIORITY_RAISED, audience)
    return True


def claim(session: Session, ticket_id: int, counselor: str, now: datetime) -> tuple[Ticket, Message]:
    """Take a waiting ticket; exactly one of several racing counselors wins, the others get Conflict.

    Returns the ticket and the message telling the family a person is here.
    """
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.status == Status.WAITING.value)
        .values(status=Status.ACTIVE.value, claimed_by=counselor, claimed_at=now, last_contact_at=now)
        .execution_options(synchronize_session=False)
    )
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise LookupError(ticket_id)
    if result.rowcount != 1:
        raise Conflict(ticket.status)
    add_event(session, ticket, EventKind.CLAIMED, counselor)
    return ticket, say(session, ticket, Utterance(texts.CLAIMED), Author.BOT)


def counselor_says(session: Session, ticket: Ticket, counselor: str, text: str, now: datetime) -> Message:
    """A counselor's message to the family; only the counselor holding the ticket speaks."""
    if ticket.status != Status.ACTIVE.value:
        raise Conflict(ticket.status)
    if ticket.claimed_by != counselor:
        raise NotHolder(ticket.claimed_by)
    touch(session, ticket, now)
    return say(session, ticket, Utterance(text), Author.COUNSELOR)


def _check_holder(ticket: Ticket, by: str, override: bool) -> None:
    """The holder may act on a ticket; ``override`` (an admin) may act on any open one."""
    if ticket.status == Status.CLOSED.value:
        raise Conflict(ticket.status)
    if not override and ticket.claimed_by != by:
        raise NotHolder(ticket.claimed_by)


def transfer(
    session: Session,
    ticket: Ticket,
    by: str,
    to: str | None,
    now: datetime,
    note: str = "",
    override: bool = False,
) -> Message:
    """Hand an active ticket to another counselor, or back to the queue (``to`` None).

    The new counselor (or, back in the queue, those on call) is notified through the
    outbox, and the family is told kindly; returns that message for the gateway to push.
    Loses to a concurrent change (Conflict), as a claim does.
    """
    _check_holder(ticket, by, override)
    if to == ticket.claimed_by:
        raise Conflict(ticket.status)
    handed: dict[str, Any] = {"claimed_by": to}
    if to is None:
        handed = {"status": Status.WAITING.value, "claimed_by": None, "claimed_at": None, "checkins": 0}
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status == Status.ACTIVE.value,
            Ticket.claimed_by == ticket.claimed_by,
        )
        .values(last_contact_at=now, **handed)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(ticket.status)
    previous = ticket.claimed_by
    session.refresh(ticket)
    add_event(session, ticket, EventKind.TRANSFERRED, by, note, previous=previous, to=to)
    if to is None:
        notify.enqueue(session, ticket, notify.Kind.RETURNED, notify.ON_CALL)
        return say(session, ticket, Utterance(texts.BACK_IN_QUEUE), Author.BOT)
    notify.enqueue(session, ticket, notify.Kind.TRANSFERRED, notify.counselor(to))
    return say(session, ticket, Utterance(texts.TRANSFERRED), Author.BOT)


def close(
    session: Session,
    ticket: Ticket,
    by: str,
    outcome: str,
    note: str,
    now: datetime,
    override: bool = False,
) -> Message:
    """End the hand-off and tell the family; returns that message for the gateway to push.

    Rasa's tracker is resumed by default, so a half-done intake form survives a
    hand-off: the bot never saw the hand-off messages, so its tracker is exactly
    where it was. After a crisis or an emergency, picking an old form question
    back up would be wrong, so the tracker is reset instead; the flag stays set
    until Rasa has confirmed the reset (it may be down right now).
    """
    _check_holder(ticket, by, override)
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status.in_(OPEN_STATUSES))
        .values(status=Status.CLOSED.value, closed_at=now, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(ticket.status)
    session.refresh(ticket)
    add_event(session, ticket, EventKind.CLOSED, by, note, outcome=outcome)
    goodbye = say(
        session, ticket, Utterance(texts.CLOSED), Author.BOT, custom={"handoff": state(session, ticket)}
    )
    ticket.closed_message_id = goodbye.id
    if ticket.priority in RESET_RASA_AFTER:
        conversation(session, ticket.sender).rasa_reset_pending = True
    return goodbye


WITHDRAWABLE = (Priority.REQUESTED.value, Priority.DISTRESS.value)
"""Tickets a family opened by asking for a person may be taken back by the family while waiting;
a crisis or emergency ticket stays until a counselor closes it."""


def withdraw(session: Session, ticket: Ticket, now: datetime) -> bool:
    """Close a waiting request at the family's word; False if it cannot be withdrawn (any more)."""
    if ticket.priority not in WITHDRAWABLE:
        return False
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == Status.WAITING.value)
        .values(status=Status.CLOSED.value, closed_at=now, outcome=WITHDRAWN, close_announced=True)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.refresh(ticket)
    add_event(session, ticket, EventKind.CLOSED, "family", "withdrawn by the family", outcome=WITHDRAWN)
    return True


def conversation(session: Session, sender: str) -> Conversation:
    """The family's hand-off state row, made on first use."""
    conversation = session.get(Conversation, sender)
    if conversation is None:
        conversation = Conversation(sender=sender)
        session.add(conversation)
    return conversation


FOLLOWUP_WITHIN = timedelta(days=30)
"""The furthest ahead a call-back may be promised."""


class BadFollowUp(ValueError):
    """A call-back must be due from now on and within :data:`FOLLOWUP_WITHIN`."""


def schedule_followup(
    session: Session, ticket: Ticket, by: str, due_at: datetime, note: str, now: datetime
) -> FollowUp:
    """Promise a call-back: when due, the family is queued again at callback priority."""
    if not now <= due_at <= now + FOLLOWUP_WITHIN:
        raise BadFollowUp(due_at)
    followup = FollowUp(
        ticket_id=ticket.id,
        sender=ticket.sender,
        channel=ticket.channel,
        due_at=due_at,
        note=note,
        created_by=by,
        created_at=now,
    )
    session.add(followup)
    add_event(session, ticket, EventKind.FOLLOWUP_SCHEDULED, by, note, due_at=due_at.isoformat())
    return followup


def promise_followup(session: Session, ticket: Ticket, followup: FollowUp) -> Message:
    """Tell the family when someone will come back to them, so the call-back is no surprise."""
    due = followup.due_at.astimezone(BEIJING)
    when = texts.FOLLOWUP_WHEN.format(month=due.month, day=due.day, time=due.strftime("%H:%M"))
    return say(session, ticket, Utterance(texts.FOLLOWUP_PROMISED.format(when=when)), Author.BOT)


# --- the queue as families and counselors see it ------------------------------------


def ordered(session: Session, status: Status, limit: int = 200) -> list[Ticket]:
    """Tickets of one status in queue order (most urgent, then oldest first); closed: latest first."""
    if status is Status.CLOSED:
        order = (Ticket.closed_at.desc(), Ticket.id.desc())
    else:
        order = (Ticket.rank.desc(), Ticket.opened_at, Ticket.id)
    query = select(Ticket).where(Ticket.status == status.value).order_by(*order).limit(limit)
    return list(session.scalars(query))


def position(session: Session, ticket: Ticket) -> int:
    """1 for the next family to be served; 0 when the ticket is not waiting."""
    if ticket.status != Status.WAITING.value:
        return 0
    ahead = or_(
        Ticket.rank > ticket.rank,
        and_(
            Ticket.rank == ticket.rank,
            or_(
                Ticket.opened_at < ticket.opened_at,
                and_(Ticket.opened_at == ticket.opened_at, Ticket.id < ticket.id),
            ),
        ),
    )
    count = session.scalar(select(func.count()).where(Ticket.status == Status.WAITING.value, ahead))
    return int(count or 0) + 1


def is_urgent(ticket: Ticket) -> bool:
    """A crisis or an emergency: told someone is being called now, never a wait."""
    return ticket.rank >= Priority.EMERGENCY.rank


def waited(ticket: Ticket, now: datetime) -> timedelta:
    """How long the family waited for a person (so far, if nobody has come yet)."""
    return (ticket.claimed_at or ticket.closed_at or now) - ticket.opened_at


def sla(ticket: Ticket, now: datetime) -> Sla:
    """Where a ticket's wait stands against its priority's claim target."""
    target = CLAIM_TARGETS[ticket.priority_enum]
    wait = waited(ticket, now)
    if wait >= target:
        return Sla.OVER
    return Sla.LATE if wait >= target / 2 else Sla.OK


def minutes_per_place(session: Session, default: float) -> float:
    """Typical time one counselor takes per family ahead: the median of recent claim waits, else
    the setting."""
    query = (
        select(Ticket.opened_at, Ticket.claimed_at)
        .where(Ticket.claimed_at.is_not(None))
        .order_by(Ticket.claimed_at.desc())
        .limit(RECENT_WAITS)
    )
    waits = [(claimed - opened).total_seconds() / 60 for opened, claimed in session.execute(query)]
    if len(waits) < 3:
        return default
    return max(1.0, statistics.median(waits))


def state(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The hand-off state of the webhook contract; ``position`` is 0 unless waiting."""
    return {
        "id": ticket.id,
        "status": ticket.status,
        "priority": ticket.priority,
        "position": position(session, ticket),
    }


def wait_minutes(session: Session, ticket: Ticket, default_per_place: float) -> tuple[int, float | None]:
    """(position, rough minutes until a counselor comes) for a waiting ticket.

    The counselors on duty share the queue: with two on duty the 4th family waits about
    two places' time. With nobody on duty there is no honest estimate: the minutes are None.
    """
    where = position(session, ticket)
    counselors = duty.count(session)
    if counselors == 0:
        return where, None
    return where, math.ceil(where / counselors) * minutes_per_place(session, default_per_place)


# --- messages to the family outside a bot turn -------------------------------------


def say(
    session: Session,
    ticket: Ticket,
    utterance: Utterance,
    author: Author,
    custom: dict[str, Any] | None = None,
) -> Message:
    """Store a message to the family (check-in, counselor words, closing); the gateway pushes it.

    The payload has the same shape as the router's stored replies, so every
    channel renders stored messages one way.
    """
    payload: dict[str, Any] = {}
    if utterance.buttons:
        payload["buttons"] = [{"title": b.title, "payload": b.payload} for b in utterance.buttons]
    if custom is not None:
        payload["custom"] = custom
    return record(
        session,
        sender=ticket.sender,
        channel=ticket.channel,
        direction=Direction.OUTBOUND,
        author=author,
        text=utterance.text,
        payload=payload or None,
    )


def touch(session: Session, ticket: Ticket, now: datetime) -> None:
    """The family just heard from us: the next check-in is counted from now."""
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(last_contact_at=now)
        .execution_options(synchronize_session=False)
    )


def erase_before(session: Session, cutoff: datetime) -> int:
    """Blank what risk signals quoted and what tickets' events say, older than ``cutoff``.

    Levels, categories, times and outcomes stay for the statistics (false alarms per level).
    """
    signals = session.execute(
        update(Signal)
        .where(Signal.at < cutoff, (Signal.sentence != "") | (Signal.term != ""))
        .values(sentence="", term="")
        .execution_options(synchronize_session=False)
    )
    events = session.execute(
        update(Event)
        .where(Event.at < cutoff, Event.text != "")
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    return signals.rowcount + events.rowcount
