"""What a counselor reads before answering: the transcript and an automatic summary.

The transcript is the ticket's messages plus a little of what came before, so the
counselor sees what led here. The summary lists Rasa's intents, every risk signal
with the sentence that raised it, and what the intake forms have collected (the
draft saved after every answer, and cases already filed), read from the database
so it is there even while Rasa is down. :func:`dossier` gathers all of it for one
ticket and leaves the access-log row that every such read must leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff import queue
from handoff.models import Event, Signal, Status, Ticket
from handoff.risk import RiskLevel
from handoff.safety import RASA
from helpline.access_log import log_access
from helpline.messages import Message
from intake.cases import cases_for_sender
from intake.drafts import latest_draft

CONTEXT_MESSAGES = 20
"""Messages before the ticket opened that are shown with it."""

MAX_TRANSCRIPT = 2000
OPENING_WORDS = 40
"""Characters of a ticket's opening message the queue shows."""
EARLIER_TICKETS = 20
"""How many of the family's earlier tickets the summary lists, latest first."""


@dataclass(frozen=True)
class Summary:
    intents: list[dict[str, Any]]
    risk_signals: list[dict[str, Any]]
    highest_level: str


def transcript(session: Session, ticket: Ticket) -> list[Message]:
    """Context before the ticket, then everything from its opening to its close, oldest first."""
    mine = select(Message).where(Message.sender == ticket.sender)
    if ticket.opened_message_id is None:
        body = mine.where(Message.created_at >= ticket.opened_at)
        return list(session.scalars(body.order_by(Message.id).limit(MAX_TRANSCRIPT)))
    before = (
        mine.where(Message.id < ticket.opened_message_id).order_by(Message.id.desc()).limit(CONTEXT_MESSAGES)
    )
    body = mine.where(Message.id >= ticket.opened_message_id)
    if ticket.closed_message_id is not None:
        body = body.where(Message.id <= ticket.closed_message_id)
    context = list(reversed(session.scalars(before).all()))
    return context + list(session.scalars(body.order_by(Message.id).limit(MAX_TRANSCRIPT)))


def opening_words(session: Session, tickets: list[Ticket]) -> dict[int, str]:
    """The first words of the family message that opened each ticket (empty for a call-back)."""
    ids = [ticket.opened_message_id for ticket in tickets if ticket.opened_message_id is not None]
    query = select(Message.id, Message.text).where(Message.id.in_(ids))
    texts: dict[int, str] = {row.id: row.text for row in session.execute(query)} if ids else {}
    words = {ticket.id: texts.get(ticket.opened_message_id or 0, "") for ticket in tickets}
    return {
        key: text if len(text) <= OPENING_WORDS else text[:OPENING_WORDS] + "…" for key, text in words.items()
    }


def summarise(session: Session, messages: list[Message]) -> Summary:
    """Intents and risk signals raised by the messages of a transcript."""
    ids = [message.id for message in messages if message.direction == "in"]
    if not ids:
        return Summary([], [], RiskLevel.NONE.value)
    query = select(Signal).where(Signal.message_id.in_(ids)).order_by(Signal.id)
    signals = list(session.scalars(query))
    intents = [_intent(signal) for signal in signals if signal.source == RASA]
    risks = [_risk(signal) for signal in signals if signal.level != RiskLevel.NONE.value]
    levels = [RiskLevel(signal.level) for signal in signals]
    highest = max(levels, key=lambda level: level.rank, default=RiskLevel.NONE)
    return Summary(intents, risks, highest.value)


def _intent(signal: Signal) -> dict[str, Any]:
    return {"intent": signal.category, "message_id": signal.message_id, "at": signal.at.isoformat()}


def _risk(signal: Signal) -> dict[str, Any]:
    return {
        "level": signal.level,
        "category": signal.category,
        "term": signal.term,
        "sentence": signal.sentence,
        "source": signal.source,
        "message_id": signal.message_id,
        "at": signal.at.isoformat(),
    }


def intake(session: Session, sender: str) -> dict[str, Any]:
    """The family's half-filled form (if any) and the cases already filed for them."""
    draft = latest_draft(session, sender)
    return {
        "draft": None
        if draft is None
        else {"form": draft.form, "answers": draft.slots, "updated_at": draft.updated_at.isoformat()},
        "cases": [
            {
                "number": case.number,
                "kind": case.kind,
                "status": case.status,
                "created_at": case.created_at.isoformat(),
            }
            for case in cases_for_sender(session, sender)
        ],
    }


def events(session: Session, ticket: Ticket) -> list[Event]:
    """The ticket's history, private notes included (counselors only)."""
    return list(session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id)))


def earlier_tickets(session: Session, ticket: Ticket) -> list[Ticket]:
    """The family's closed tickets opened before this one, latest first (how often they came, and why)."""
    query = (
        select(Ticket)
        .where(Ticket.sender == ticket.sender, Ticket.id < ticket.id, Ticket.status == Status.CLOSED.value)
        .order_by(Ticket.id.desc())
        .limit(EARLIER_TICKETS)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Dossier:
    """Everything a counselor reads about one ticket."""

    ticket: Ticket
    position: int
    messages: list[Message]
    summary: Summary
    events: list[Event]
    intake: dict[str, Any]
    earlier: list[Ticket]


def dossier(session: Session, ticket: Ticket, reader: str) -> Dossier:
    """Read one ticket's transcript, summary and history for ``reader``; the read is access-logged."""
    log_access(session, reader, "read", f"handoff:{ticket.id}")
    messages = transcript(session, ticket)
    return Dossier(
        ticket=ticket,
        position=queue.position(session, ticket),
        messages=messages,
        summary=summarise(session, messages),
        events=events(session, ticket),
        intake=intake(session, ticket.sender),
        earlier=earlier_tickets(session, ticket),
    )
