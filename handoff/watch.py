"""Never silent: the loop that keeps a waiting family company and makes sure someone comes.

:func:`due_actions` looks at the queue at a given moment and says what is due:
a short check-in when the family has heard nothing for a while, the help lines
again for a crisis nobody has claimed yet, a supervisor paged when a crisis or an
emergency waits too long, a promised call-back. It only reads, and takes the
clock as an argument, so tests drive it with any time they like.

:func:`apply` carries one action out with a conditional UPDATE on the counter it
read, so two gateway processes (or a restart in the middle of a tick) never send
the same check-in twice. :class:`Watch` is the small asyncio task that does both
every few seconds and then hands the new messages and notices on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from handoff import crisis, notify, queue, texts
from handoff.crisis import Utterance
from handoff.models import FollowUp, Priority, Status, Ticket
from helpline.db import transaction, utcnow
from helpline.messages import Author, Message
from helpline.settings import Settings
from knowledge.directory import HelpLineInfo

log = logging.getLogger(__name__)

AT_RISK_RANK = Priority.DISTRESS.rank
URGENT_RANK = Priority.EMERGENCY.rank


class Action(StrEnum):
    CHECK_IN = "check_in"
    REPEAT_LINES = "repeat_lines"
    PAGE_SUPERVISOR = "page_supervisor"
    OPEN_CALLBACK = "open_callback"


@dataclass(frozen=True)
class Due:
    """One thing to do now; ``seen`` is the counter it was decided on (for the conditional update)."""

    action: Action
    target_id: int
    seen: int = 0


def due_actions(session: Session, now: datetime, settings: Settings) -> list[Due]:
    """Everything due at ``now``, most urgent ticket first; reads only."""
    due: list[Due] = []
    for ticket in queue.ordered(session, Status.WAITING):
        due.extend(_due_for(ticket, now, settings))
    followups = select(FollowUp.id).where(FollowUp.done_at.is_(None), FollowUp.due_at <= now)
    due.extend(Due(Action.OPEN_CALLBACK, followup_id) for followup_id in session.scalars(followups))
    return due


def _due_for(ticket: Ticket, now: datetime, settings: Settings) -> list[Due]:
    due: list[Due] = []
    waited = now - ticket.opened_at
    if (
        ticket.rank >= URGENT_RANK
        and ticket.supervisor_notified_at is None
        and waited >= timedelta(seconds=settings.handoff_supervisor_seconds)
    ):
        due.append(Due(Action.PAGE_SUPERVISOR, ticket.id))
    if (
        ticket.lines_given_at is not None
        and ticket.lines_repeats < settings.handoff_max_checkins
        and now - ticket.lines_given_at >= timedelta(seconds=settings.handoff_repeat_lines_seconds)
    ):
        due.append(Due(Action.REPEAT_LINES, ticket.id, ticket.lines_repeats))
    elif ticket.checkins < settings.handoff_max_checkins and now - ticket.last_contact_at >= timedelta(
        seconds=settings.handoff_checkin_seconds
    ):
        due.append(Due(Action.CHECK_IN, ticket.id, ticket.checkins))
    return due


def apply(
    session: Session, due: Due, now: datetime, settings: Settings, lines: Sequence[HelpLineInfo]
) -> list[Message]:
    """Carry out one action; returns the messages it stored for the family (none if it lost a race)."""
    if due.action is Action.OPEN_CALLBACK:
        return _open_callback(session, due.target_id, now, settings)
    ticket = session.get(Ticket, due.target_id)
    if ticket is None:
        return []
    if due.action is Action.PAGE_SUPERVISOR:
        _page_supervisor(session, ticket, now)
        return []
    if due.action is Action.REPEAT_LINES:
        won = _bump(session, ticket, Ticket.lines_repeats, due.seen, now, lines_given_at=now)
        utterance = crisis.lines_repeat(lines)
        kind = queue.EventKind.LINES_REPEATED
    else:
        won = _bump(session, ticket, Ticket.checkins, due.seen, now)
        utterance = _check_in_words(session, ticket, settings, lines)
        kind = queue.EventKind.CHECKIN
    if not won:
        return []
    queue.add_event(session, ticket, kind, "bot")
    return [queue.say(session, ticket, utterance, Author.BOT)]


def _bump(
    session: Session,
    ticket: Ticket,
    counter: InstrumentedAttribute[int],
    seen: int,
    now: datetime,
    **values: datetime,
) -> bool:
    """Advance ``counter`` from ``seen`` if nobody else did; the family heard from us now."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == Status.WAITING.value, counter == seen)
        .values({counter: seen + 1, Ticket.last_contact_at: now, **values})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _check_in_words(
    session: Session, ticket: Ticket, settings: Settings, lines: Sequence[HelpLineInfo]
) -> Utterance:
    """Where the family stands; a crisis or an emergency with nobody on duty gets the help lines
    again instead, with the honest word that we are reaching someone."""
    position, minutes = queue.wait_minutes(session, ticket, settings.handoff_minutes_per_place)
    if minutes is None and queue.is_urgent(ticket):
        return Utterance(crisis.lines_text(texts.CHECKIN_NOBODY_INTRO, lines))
    words = texts.CHECKIN_AT_RISK if ticket.rank >= AT_RISK_RANK else texts.CHECKIN
    return Utterance(words.format(place=crisis.place(position, minutes, urgent=queue.is_urgent(ticket))))


def _page_supervisor(session: Session, ticket: Ticket, now: datetime) -> None:
    result = session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.status == Status.WAITING.value,
            Ticket.supervisor_notified_at.is_(None),
        )
        .values(supervisor_notified_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        queue.add_event(session, ticket, queue.EventKind.SUPERVISOR_NOTIFIED, "bot")
        notify.enqueue(session, ticket, notify.Kind.UNCLAIMED, notify.SUPERVISOR)


def _open_callback(session: Session, followup_id: int, now: datetime, settings: Settings) -> list[Message]:
    result = session.execute(
        update(FollowUp)
        .where(FollowUp.id == followup_id, FollowUp.done_at.is_(None))
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    followup = session.get(FollowUp, followup_id)
    if result.rowcount != 1 or followup is None:
        return []
    ticket, opened = queue.open_ticket(
        session, sender=followup.sender, channel=followup.channel, priority=Priority.CALLBACK, now=now
    )
    followup.callback_ticket_id = ticket.id
    if not opened:
        return []
    position, minutes = queue.wait_minutes(session, ticket, settings.handoff_minutes_per_place)
    hello = Utterance(texts.CALLBACK_OPENED.format(place=crisis.place(position, minutes)))
    message = queue.say(session, ticket, hello, Author.BOT)
    ticket.opened_message_id = message.id
    return [message]


Push = Callable[[Message], Awaitable[object]]


class Watch:
    """The asyncio task the gateway runs: a tick every few seconds, or at once when woken."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        push: Push,
        notifiers: Sequence[notify.Notifier],
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._push = push
        self.notifiers = list(notifiers)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Tick now (a new ticket's notices should not wait for the next interval)."""
        if self._wake is not None:
            self._wake.set()

    async def tick(self, now: datetime | None = None) -> list[Message]:
        """One pass: carry out what is due, push the messages, send the notices."""
        now = now or utcnow()
        with self._sessions() as session:
            dues = due_actions(session, now, self._settings)
        lines = crisis.fresh_help_lines(self._sessions) if dues else []
        sent: list[Message] = []
        for due in dues:
            try:
                with transaction(self._sessions) as session:
                    sent.extend(apply(session, due, now, self._settings, lines))
            except Exception:
                log.exception("hand-off watch could not carry out %s for %s", due.action, due.target_id)
        for message in sent:
            await self._push(message)
        await notify.dispatch(self._sessions, self.notifiers)
        return sent

    async def run(self) -> None:
        wake = self._wake = asyncio.Event()  # made here: an Event belongs to the loop that runs it
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("hand-off watch tick failed; trying again at the next one")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._settings.handoff_watch_seconds)
            wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="handoff-watch")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
