"""Working a ticket from the gateway: the domain step, then what must follow it outside the database.

The counselor API (:mod:`bot.api.handoffs`) and the web console (:mod:`bot.console`)
both act through these functions, so a claim, a reply, a transfer or a close has one meaning:
the change is committed first (:mod:`handoff.queue`), then the family's message is
pushed to their channel, and after a crisis or an emergency Rasa's tracker is reset.
Domain refusals (LookupError for an unknown ticket, :class:`handoff.queue.Conflict`,
:class:`handoff.queue.NotHolder`) reach the caller, which says them its own way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session
from starlette.datastructures import State

from bot.rasa_client import RasaUnavailable
from handoff import duty, queue
from handoff.models import Ticket
from helpline.db import transaction, utcnow
from helpline.messages import Message
from helpline.users import Role, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Said:
    """A counselor's stored message, and whether its channel took it now (REST families poll)."""

    message: Message
    pushed: bool


def is_admin(user: User) -> bool:
    """Admins may act on any open ticket, not only on those they hold."""
    return user.role == Role.ADMIN.value


def ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, or LookupError."""
    found = queue.get(session, ticket_id)
    if found is None:
        raise LookupError(ticket_id)
    return found


async def claim(state: State, ticket_id: int, counselor: str) -> Ticket:
    """Take a waiting ticket (one of racing counselors wins, the others get Conflict); the family is told."""
    with transaction(state.sessions) as session:
        claimed, hello = queue.claim(session, ticket_id, counselor, utcnow())
    await state.delivery.push(hello)
    return claimed


async def reply(state: State, ticket_id: int, counselor: str, text: str) -> Said:
    """The holder's words to the family: stored, then pushed to their channel."""
    with transaction(state.sessions) as session:
        message = queue.counselor_says(session, ticket(session, ticket_id), counselor, text, utcnow())
    return Said(message, await state.delivery.push(message))


async def transfer(state: State, ticket_id: int, user: User, to: str | None, note: str = "") -> Ticket:
    """Hand a claimed ticket to a colleague on duty, or back to the queue (``to`` None).

    As after a claim, the family's message is pushed at once; the watch is woken so the
    new counselor's notice (or the on-call one) goes out now, not at the next tick.
    Raises :class:`handoff.duty.NotOnDuty` when ``to`` is not on duty.
    """
    with transaction(state.sessions) as session:
        if to is not None and not duty.is_on_duty(session, to):
            raise duty.NotOnDuty(to)
        moved = ticket(session, ticket_id)
        words = queue.transfer(session, moved, user.name, to, utcnow(), note, is_admin(user))
    await state.delivery.push(words)
    state.watch.wake()
    return moved


@dataclass(frozen=True)
class FollowUpPlan:
    """A call-back promised when closing: when (UTC-aware) and what the counselor noted for it."""

    due_at: datetime
    note: str


async def close(
    state: State, ticket_id: int, user: User, outcome: str, note: str, followup: FollowUpPlan | None = None
) -> Ticket:
    """End the hand-off: the family is told (and when someone will call back, if a follow-up is
    planned) and goes back to the bot (Rasa reset after a crisis). Raises
    :class:`handoff.queue.BadFollowUp` for a call-back in the past or too far ahead, closing nothing.
    """
    now = utcnow()
    with transaction(state.sessions) as session:
        closed = ticket(session, ticket_id)
        said: list[Message] = []
        if followup is not None:
            planned = queue.schedule_followup(session, closed, user.name, followup.due_at, followup.note, now)
            said.append(queue.promise_followup(session, closed, planned))
        said.append(queue.close(session, closed, user.name, outcome, note, now, is_admin(user)))
    for message in said:
        await state.delivery.push(message)
    if closed.priority in queue.RESET_RASA_AFTER:
        await _reset_rasa(state, closed.sender)
    return closed


async def _reset_rasa(state: State, sender: str) -> None:
    """Reset Rasa's tracker now; if Rasa is down the router retries before the next Rasa turn."""
    try:
        await state.rasa.reset_tracker(sender)
    except RasaUnavailable as error:
        log.warning("rasa tracker reset postponed: %s", error)
        return
    state.gate.rasa_reset_done(sender)
