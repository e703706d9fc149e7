"""The counselors' pages: the live queue and one conversation, and the actions on a ticket.

Reads go through :mod:`handoff.queue` and :mod:`handoff.summary` (a conversation's
every read is access-logged by :func:`handoff.summary.dossier`); actions through
:mod:`bot.desk`, as the API's do. Refusals (someone else claimed it first, the ticket
is closed) are said in a small part of the page htmx swaps in, or on a page of their
own when the browser posts the form without JavaScript.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from bot import desk
from bot.api.handoffs import TicketId
from bot.auth import may
from bot.console import live, texts, views
from bot.console.signin import require, resume
from bot.console.web import page, templates
from handoff import duty, queue, summary
from handoff.models import Event, Status
from helpline.access_log import log_access
from helpline.db import transaction, utcnow
from helpline.users import Role
from helpline.web_sessions import SignedIn

router = APIRouter(prefix="/console")

Counselor = Annotated[SignedIn, Depends(require(Role.COUNSELOR))]
CounselorActing = Annotated[SignedIn, Depends(require(Role.COUNSELOR, form=True))]
QUEUE = "/console/queue"


def sessions_of(request: Request) -> sessionmaker[Session]:
    return request.app.state.sessions


def is_htmx(request: Request) -> bool:
    return bool(request.headers.get("HX-Request"))


def go(request: Request, url: str) -> Response:
    """To another page: htmx follows ``HX-Redirect``, a plain form post a 303."""
    if is_htmx(request):
        return Response(headers={"HX-Redirect": url})
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER)


def refused(request: Request, message: str) -> Response:
    """A refusal: into the page's notice area for htmx (200, so htmx swaps it, whatever the form's
    own target), else a page of its own."""
    if is_htmx(request):
        notice = templates.get_template("_notice.html").render(message=message, error=True)
        return HTMLResponse(notice, headers={"HX-Retarget": "#notice", "HX-Reswap": "innerHTML"})
    return page(request, "error.html", {"message": message}, status.HTTP_409_CONFLICT)


def refusal_text(sessions: sessionmaker[Session], ticket_id: int, refusal: Exception) -> str:
    """Why the step did not happen, naming who holds the ticket now (a claim race's loser sees the winner)."""
    with sessions() as session:
        ticket = queue.get(session, ticket_id)
    if ticket is None:
        return texts.NO_SUCH_TICKET
    if ticket.status == Status.CLOSED.value:
        return texts.TICKET_CLOSED.format(id=ticket.id)
    if ticket.claimed_by and (isinstance(refusal, queue.NotHolder) or ticket.status == Status.ACTIVE.value):
        return texts.HELD_BY.format(id=ticket.id, counselor=ticket.claimed_by)
    return texts.NOT_NOW.format(id=ticket.id)


# --- the queue ----------------------------------------------------------------------


def _queue_parts(session: Session, who: SignedIn) -> dict[str, Any]:
    """The waiting tickets in queue order and those being worked, as the queue part shows them."""
    now = utcnow()
    waiting = queue.ordered(session, Status.WAITING)
    active = queue.ordered(session, Status.ACTIVE)
    words = summary.opening_words(session, waiting + active)
    on_duty = [row.counselor for row in duty.on_duty(session)]
    return {
        "waiting": [views.row(ticket, words[ticket.id], now) for ticket in waiting],
        "active": [views.row(ticket, words[ticket.id], now) for ticket in active],
        "on_duty": on_duty,
        "me_on_duty": who.user.name in on_duty,
        "me": who.user.name,
        "csrf": who.csrf_token,
    }


def _render_queue(sessions: sessionmaker[Session], who: SignedIn) -> str:
    with sessions() as session:
        return templates.get_template("_queue.html").render(_queue_parts(session, who))


def _queue_version(session: Session) -> tuple[int, tuple[str, ...]]:
    """Changes whenever a ticket opens, rises, is claimed, moves or closes (each of those is an
    event), and whenever someone goes on or off duty."""
    on_duty = tuple(row.counselor for row in duty.on_duty(session))
    return session.scalar(select(func.max(Event.id))) or 0, on_duty


@router.get("/queue")
def queue_page(request: Request, who: Counselor) -> Response:
    with transaction(sessions_of(request)) as session:
        # The queue shows the words that opened each ticket: a read of families' messages.
        log_access(session, who.user.name, "list", "handoffs")
        parts = _queue_parts(session, who)
    return page(request, "queue.html", {"who": who, **parts})


def live_counselor(request: Request) -> SignedIn | None:
    """The counselor a stream is for, without counting it as activity; None when that is over."""
    who = resume(request, touch=False)
    return who if who is not None and may(who.user, (Role.COUNSELOR,)) else None


async def signed_out(part: str) -> AsyncIterator[Iterable[live.Event]]:
    yield [(part, templates.get_template("_signed_out.html").render())]


@router.get("/queue/stream")
def queue_stream(request: Request) -> Response:
    """The queue part again whenever the queue changes (and every few seconds for the clocks)."""
    who = live_counselor(request)
    if who is None:
        return live.stream(signed_out("queue"))
    sessions, every = sessions_of(request), request.app.state.settings.console_poll_seconds

    async def parts() -> AsyncIterator[Iterable[live.Event]]:
        async for _ in live.changes(sessions, _queue_version, every, live.deadline(request)):
            yield [("queue", await run_in_threadpool(_render_queue, sessions, who))]

    return live.stream(parts())


@router.post("/duty")
def set_duty(request: Request, who: CounselorActing, on: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Go on duty (``on=1``) or off it; families' wait estimates count who is on duty."""
    with transaction(sessions_of(request)) as session:
        if on == "1":
            duty.go_on(session, who.user.name, utcnow())
        else:
            duty.go_off(session, who.user.name)
    if is_htmx(request):
        return HTMLResponse(_render_queue(sessions_of(request), who))
    return go(request, QUEUE)


@router.post("/tickets/{ticket_id}/claim")
async def claim(request: Request, ticket_id: TicketId, who: CounselorActing) -> Response:
    """Take a waiting ticket and open it; when another counselor was faster, say who."""
    try:
        await desk.claim(request.app.state, ticket_id, who.user.name)
    except (LookupError, queue.Conflict) as refusal:
        return refused(request, refusal_text(sessions_of(request), ticket_id, refusal))
    return go(request, f"/console/tickets/{ticket_id}")
