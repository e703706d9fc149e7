"""One conversation: the transcript with the bot's turns and the marked risk sentences, the summary,
the reply box, private notes, transfer, and closing with an outcome and maybe a call-back. Every
read is access-logged (:func:`handoff.summary.dossier`), and so is every note written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot import desk
from bot.api.handoffs import TicketId
from bot.console import live, texts, views
from bot.console.pages import (
    QUEUE,
    Counselor,
    CounselorActing,
    go,
    is_htmx,
    live_counselor,
    refusal_text,
    refused,
    sessions_of,
    signed_out,
)
from bot.console.web import page, templates
from handoff import duty, queue, summary
from handoff.models import Event, Status
from helpline.db import transaction
from helpline.messages import Message
from helpline.web_sessions import SignedIn
from intake.cases import BEIJING

router = APIRouter(prefix="/console")

DEFAULT_FOLLOWUP_TIME = "10:00"
"""A call-back given a day but no time is at ten in the morning, Beijing time."""
BACK_TO_QUEUE = "queue"
"""The transfer form's choice for putting the family back in the queue (no colleague)."""


def _read(session: Session, ticket_id: int, who: SignedIn) -> summary.Dossier:
    """The ticket's dossier for ``who`` (access-logged), or the 404 page."""
    ticket = queue.get(session, ticket_id)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, texts.NO_SUCH_TICKET)
    return summary.dossier(session, ticket, who.user.name)


def _conversation_parts(read: summary.Dossier, who: SignedIn, on_duty: list[str]) -> dict[str, Any]:
    ticket = read.ticket
    holder = ticket.status == Status.ACTIVE.value and ticket.claimed_by == who.user.name
    return {
        "ticket": ticket,
        "read": read,
        "lines": views.transcript(read),
        "notes": views.notes(read),
        "priority": views.PRIORITY_LABELS[ticket.priority],
        "status": views.STATUS_LABELS[ticket.status],
        "outcome": views.OUTCOME_LABELS.get(ticket.outcome or "", ticket.outcome),
        "highest": views.RISK_LABELS.get(read.summary.highest_level, read.summary.highest_level),
        "intents": list(dict.fromkeys(intent["intent"] for intent in read.summary.intents)),
        "earlier": [(t, views.OUTCOME_LABELS.get(t.outcome or "", t.outcome)) for t in read.earlier],
        "priorities": views.PRIORITY_LABELS,
        "risks": views.risks(read),
        "outcomes": [(o.value, views.OUTCOME_LABELS[o.value]) for o in queue.Outcome],
        "may_reply": holder,
        "may_close": ticket.status != Status.CLOSED.value and (holder or desk.is_admin(who.user)),
        "may_claim": ticket.status == Status.WAITING.value,
        "may_transfer": ticket.status == Status.ACTIVE.value and (holder or desk.is_admin(who.user)),
        "colleagues": [name for name in on_duty if name != ticket.claimed_by],
        "csrf": who.csrf_token,
    }


def _parts(session: Session, ticket_id: int, who: SignedIn) -> dict[str, Any]:
    """What the conversation page shows, read (and access-logged) now."""
    on_duty = [row.counselor for row in duty.on_duty(session)]
    return _conversation_parts(_read(session, ticket_id, who), who, on_duty)


@router.get("/tickets/{ticket_id}")
def conversation_page(request: Request, ticket_id: TicketId, who: Counselor) -> Response:
    with transaction(sessions_of(request)) as session:
        parts = _parts(session, ticket_id, who)
    return page(request, "conversation.html", {"who": who, **parts})


def _conversation_version(ticket_id: int) -> live.Probe[tuple[int, int]]:
    """Changes with each message of the family's conversation and each step of the ticket."""

    def probe(session: Session) -> tuple[int, int]:
        ticket = queue.get(session, ticket_id)
        sender = ticket.sender if ticket is not None else ""
        last_message = session.scalar(select(func.max(Message.id)).where(Message.sender == sender))
        last_event = session.scalar(select(func.max(Event.id)).where(Event.ticket_id == ticket_id))
        return last_message or 0, last_event or 0

    return probe


def _render_conversation(sessions: sessionmaker[Session], ticket_id: int, who: SignedIn) -> list[live.Event]:
    """The transcript, the ticket's state and the notes, read (and access-logged) again."""
    with transaction(sessions) as session:
        parts = _parts(session, ticket_id, who)
    return [
        ("transcript", templates.get_template("_transcript.html").render(parts)),
        ("ticket", templates.get_template("_ticket_state.html").render(parts)),
        ("notes", templates.get_template("_notes.html").render(parts)),
    ]


@router.get("/tickets/{ticket_id}/stream")
def conversation_stream(request: Request, ticket_id: TicketId) -> Response:
    """The transcript and the ticket's state again whenever either changes."""
    who = live_counselor(request)
    if who is None:
        return live.stream(signed_out("transcript"))
    sessions, every = sessions_of(request), request.app.state.settings.console_poll_seconds

    async def parts() -> AsyncIterator[Iterable[live.Event]]:
        probe = _conversation_version(ticket_id)
        async for _ in live.changes(sessions, probe, every, live.deadline(request)):
            yield await run_in_threadpool(_render_conversation, sessions, ticket_id, who)

    return live.stream(parts())


@router.post("/tickets/{ticket_id}/messages")
async def reply(
    request: Request,
    ticket_id: TicketId,
    who: CounselorActing,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Say something to the family; the transcript shows it with the next update."""
    if not text.strip():
        return refused(request, texts.EMPTY_REPLY)
    try:
        await desk.reply(request.app.state, ticket_id, who.user.name, text.strip())
    except (LookupError, queue.Conflict, queue.NotHolder) as refusal:
        return refused(request, refusal_text(sessions_of(request), ticket_id, refusal))
    if is_htmx(request):
        return HTMLResponse("")
    return go(request, f"/console/tickets/{ticket_id}")


@router.post("/tickets/{ticket_id}/notes")
def add_note(
    request: Request,
    ticket_id: TicketId,
    who: CounselorActing,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """A private note for the counselors; the family never sees it."""
    if not text.strip():
        return refused(request, texts.EMPTY_NOTE)
    with transaction(sessions_of(request)) as session:
        try:
            queue.add_note(session, desk.ticket(session, ticket_id), who.user.name, text.strip())
        except LookupError:
            return refused(request, texts.NO_SUCH_TICKET)
        parts = _parts(session, ticket_id, who)
    if is_htmx(request):
        return HTMLResponse(templates.get_template("_notes.html").render(parts))
    return go(request, f"/console/tickets/{ticket_id}")


@router.post("/tickets/{ticket_id}/transfer")
async def transfer(
    request: Request,
    ticket_id: TicketId,
    who: CounselorActing,
    to: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Hand the family to a colleague on duty, or back to the queue (``to`` = ``queue``)."""
    if not to:
        return refused(request, texts.CHOOSE_COLLEAGUE)
    try:
        await desk.transfer(
            request.app.state, ticket_id, who.user, None if to == BACK_TO_QUEUE else to, note.strip()
        )
    except duty.NotOnDuty:
        return refused(request, texts.NOT_ON_DUTY.format(counselor=to))
    except (LookupError, queue.Conflict, queue.NotHolder) as refusal:
        return refused(request, refusal_text(sessions_of(request), ticket_id, refusal))
    return go(request, QUEUE)


def _followup(day: str, time: str, note: str) -> desk.FollowUpPlan | None:
    """The close form's call-back, a Beijing date and time; None when no date was given.

    Raises ValueError for a date or time that cannot be read.
    """
    if not day:
        return None
    due = datetime.fromisoformat(f"{day}T{time or DEFAULT_FOLLOWUP_TIME}").replace(tzinfo=BEIJING)
    return desk.FollowUpPlan(due, note.strip())


@router.post("/tickets/{ticket_id}/close")
async def close(
    request: Request,
    ticket_id: TicketId,
    who: CounselorActing,
    outcome: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    followup_date: Annotated[str, Form(max_length=10)] = "",
    followup_time: Annotated[str, Form(max_length=5)] = "",
    followup_note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """End the hand-off with an outcome ("no risk" counts a false alarm), a private note, and
    maybe a call-back (the family is told when)."""
    if outcome not in set(queue.Outcome):
        return refused(request, texts.UNKNOWN_OUTCOME)
    try:
        followup = _followup(followup_date, followup_time, followup_note)
        await desk.close(request.app.state, ticket_id, who.user, outcome, note.strip(), followup)
    except queue.BadFollowUp:
        return refused(request, texts.FOLLOWUP_OUT_OF_RANGE)
    except ValueError:
        return refused(request, texts.FOLLOWUP_UNREADABLE)
    except (LookupError, queue.Conflict, queue.NotHolder) as refusal:
        return refused(request, refusal_text(sessions_of(request), ticket_id, refusal))
    return go(request, QUEUE)
