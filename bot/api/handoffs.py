"""The counselor API at ``/api/v1/handoffs``: the queue, transcripts, and working a ticket.

Telegram and the web console build on the same domain functions (:mod:`handoff.queue`),
and this API and the console share the steps around them (:mod:`bot.desk`).
Every endpoint needs a counselor's (or an admin's) bearer token; every transcript
read leaves an access-log row. Messages to the family are stored first, then
pushed to their channel (REST families poll ``/api/v1/chats``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from bot import desk, openapi
from bot.auth import require_roles
from handoff import duty, queue, summary
from handoff.models import Status, Ticket
from helpline.db import transaction, utcnow
from helpline.messages import Message
from helpline.users import Role, User

router = APIRouter(prefix="/api/v1/handoffs", tags=["handoffs"], responses=openapi.SIGNED_IN)

Counselor = Annotated[User, Depends(require_roles(Role.COUNSELOR))]
TicketId = Annotated[int, Path(ge=0, le=2**31 - 1, description="工单编号 / ticket id")]
"""At most the largest id the database stores (PostgreSQL's integer); a larger one cannot be a ticket."""
TICKET_STATE = {**openapi.NOT_FOUND, **openapi.CONFLICT}
"""A ticket that does not exist, or whose status does not allow the step (403: another counselor holds it)."""


def _clean(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("empty")
    return value


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000)

    _strip = field_validator("text")(_clean)


class TransferBody(BaseModel):
    to: str | None = Field(
        default=None, min_length=1, max_length=64, description="在岗的同事；不填就放回队列"
    )
    note: str = Field(default="", max_length=4000)


class CloseBody(BaseModel):
    outcome: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=4000)

    _strip = field_validator("outcome")(_clean)


class FollowUpBody(BaseModel):
    hours: float = Field(gt=0, le=24 * 30)
    note: str = Field(default="", max_length=4000)


# --- reading ----------------------------------------------------------------------


@router.get("")
def list_handoffs(
    request: Request, user: Counselor, status_: Annotated[Status, Query(alias="status")] = Status.WAITING
) -> list[dict[str, Any]]:
    """Tickets of one status in queue order (closed: most recent first)."""
    now = utcnow()
    with request.app.state.sessions() as session:
        tickets = queue.ordered(session, status_)
    waiting = status_ is Status.WAITING
    return [_view(ticket, index + 1 if waiting else 0, now) for index, ticket in enumerate(tickets)]


@router.get("/{ticket_id}", responses=openapi.NOT_FOUND)
def read_handoff(request: Request, ticket_id: TicketId, user: Counselor) -> dict[str, Any]:
    """Transcript, automatic summary and history of one ticket; the read is access-logged."""
    with _domain_errors(), transaction(request.app.state.sessions) as session:
        read = summary.dossier(session, desk.ticket(session, ticket_id), user.name)
    body = _view(read.ticket, read.position, utcnow())
    body["transcript"] = [_message(message) for message in read.messages]
    body["summary"] = {
        "highest_level": read.summary.highest_level,
        "intents": read.summary.intents,
        "risk_signals": read.summary.risk_signals,
        "intake": read.intake,
        "earlier_tickets": [_view(earlier, 0, utcnow()) for earlier in read.earlier],
    }
    body["events"] = [
        {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "text": e.text, "data": e.data}
        for e in read.events
    ]
    return body


# --- working a ticket -------------------------------------------------------------


@router.post("/{ticket_id}/claim", responses=TICKET_STATE)
async def claim(request: Request, ticket_id: TicketId, user: Counselor) -> dict[str, Any]:
    """Take a waiting ticket; when two counselors race, one gets 200 and the other 409."""
    with _domain_errors():
        ticket = await desk.claim(request.app.state, ticket_id, user.name)
    return _view(ticket, 0, utcnow())


@router.post("/{ticket_id}/messages", status_code=status.HTTP_201_CREATED, responses=TICKET_STATE)
async def send_message(
    request: Request, ticket_id: TicketId, body: TextBody, user: Counselor
) -> dict[str, Any]:
    """Say something to the family on their channel (stored first, then pushed or polled)."""
    with _domain_errors():
        said = await desk.reply(request.app.state, ticket_id, user.name, body.text)
    return {"message_id": said.message.id, "channel": said.message.channel, "pushed": said.pushed}


@router.post("/{ticket_id}/notes", status_code=status.HTTP_201_CREATED, responses=openapi.NOT_FOUND)
def add_note(request: Request, ticket_id: TicketId, body: TextBody, user: Counselor) -> dict[str, Any]:
    """A private note on the ticket; never shown to the family."""
    with transaction(request.app.state.sessions) as session:
        ticket = _ticket(session, ticket_id)
        event = queue.add_note(session, ticket, user.name, body.text)
        return {"id": event.id, "at": event.at.isoformat()}


@router.post("/{ticket_id}/transfer", responses=TICKET_STATE)
async def transfer(
    request: Request, ticket_id: TicketId, body: TransferBody, user: Counselor
) -> dict[str, Any]:
    """Hand the ticket to another counselor on duty (who is notified), or back to the queue (no ``to``)."""
    with _domain_errors():
        try:
            ticket = await desk.transfer(request.app.state, ticket_id, user, body.to, body.note)
        except duty.NotOnDuty as error:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "没有这位在岗的咨询师。") from error
    return _view(ticket, 0, utcnow())


@router.post("/{ticket_id}/close", responses=TICKET_STATE)
async def close(request: Request, ticket_id: TicketId, body: CloseBody, user: Counselor) -> dict[str, Any]:
    """End the hand-off: the family is told and goes back to the bot."""
    with _domain_errors():
        ticket = await desk.close(request.app.state, ticket_id, user, body.outcome, body.note)
    return _view(ticket, 0, utcnow())


@router.post("/{ticket_id}/followup", status_code=status.HTTP_201_CREATED, responses=openapi.NOT_FOUND)
def follow_up(request: Request, ticket_id: TicketId, body: FollowUpBody, user: Counselor) -> dict[str, Any]:
    """Promise a call-back: in ``hours`` the family is queued again at callback priority."""
    now = utcnow()
    with transaction(request.app.state.sessions) as session:
        ticket = _ticket(session, ticket_id)
        followup = queue.schedule_followup(
            session, ticket, user.name, now + timedelta(hours=body.hours), body.note, now
        )
        session.flush()
        return {"id": followup.id, "due_at": followup.due_at.isoformat()}


# --- helpers ----------------------------------------------------------------------


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Domain refusals as HTTP answers a console can show."""
    try:
        yield
    except LookupError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这张工单。") from error
    except queue.NotHolder as error:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "这张工单不在您手上。") from error
    except queue.Conflict as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"工单当前状态是 {error.args[0]}，不能这样操作。"
        ) from error


def _ticket(session: Session, ticket_id: int) -> Ticket:
    with _domain_errors():
        return desk.ticket(session, ticket_id)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _view(ticket: Ticket, position: int, now: datetime) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "sender": ticket.sender,
        "channel": ticket.channel,
        "status": ticket.status,
        "priority": ticket.priority,
        "position": position,
        "opened_at": _iso(ticket.opened_at),
        "waited_seconds": round(queue.waited(ticket, now).total_seconds()),
        "claimed_by": ticket.claimed_by,
        "claimed_at": _iso(ticket.claimed_at),
        "closed_at": _iso(ticket.closed_at),
        "outcome": ticket.outcome,
    }


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "at": message.created_at.isoformat(),
        "direction": message.direction,
        "author": message.author,
        "text": message.text,
    }
