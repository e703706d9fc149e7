"""``GET /api/v1/chats/{sender}/messages``: what a REST web client has not seen yet.

A web page cannot be pushed to, so counselor messages, check-ins and the closing
words reach it here: every message to the family (bot and counselor) after a
cursor, oldest first, and the cursor to ask with next time.

Like the REST webhook itself, this is keyed by the sender id the client chose,
with no token: the web client must use an unguessable sender id (a random UUID).
Only REST conversations are served: a Telegram family's id is a guessable chat
number, and its messages reach it through Telegram anyway.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from bot.delivery import stored_reply
from bot.webhook import REST_CHANNEL
from handoff import queue
from helpline.messages import Direction, since

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])


@router.get("/{sender}/messages")
def messages_to_family(
    request: Request,
    sender: Annotated[str, Path(min_length=1, max_length=128)],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    """``{"messages": [...REST items with id, author, at...], "cursor": n, "handoff": state|null}``."""
    with request.app.state.sessions() as session:
        rows = since(session, sender, after, limit, channel=REST_CHANNEL)
        ticket = queue.open_ticket_of(session, sender)
        state = queue.state(session, ticket) if ticket and ticket.channel == REST_CHANNEL else None
    outbound = [row for row in rows if row.direction == Direction.OUTBOUND.value]
    items = [
        {
            "id": row.id,
            "author": row.author,
            "at": row.created_at.isoformat(),
            **stored_reply(row).to_rest(sender),
        }
        for row in outbound
    ]
    return {"messages": items, "cursor": rows[-1].id if rows else after, "handoff": state}
