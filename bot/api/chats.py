"""``GET /api/v1/chats/{sender}/messages``: what a REST web client has not seen yet.

A web page cannot be pushed to, so counselor messages, check-ins and the closing
words reach it here: every message to the family (bot and counselor) after a
cursor, oldest first, and the cursor to ask with next time.

The conversation's chat key is required (``key``, from the webhook's
``X-Helpline-Chat-Key`` header): a sender id alone opens nothing, and a wrong key is
a 404, as for a conversation that does not exist. Only REST conversations are
served: a Telegram family's messages reach it through Telegram.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from bot import openapi
from bot.delivery import stored_reply
from bot.webhook import REST_CHANNEL
from handoff import queue
from helpline.messages import Direction, since
from helpline.secrets import chat_key, same

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])


@router.get("/{sender}/messages", responses=openapi.NOT_FOUND)
def messages_to_family(
    request: Request,
    sender: Annotated[str, Path(min_length=1, max_length=128)],
    key: Annotated[str, Query(min_length=1, max_length=64, description="the webhook's X-Helpline-Chat-Key")],
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> dict[str, Any]:
    """``{"messages": [...REST items with id, author, at...], "cursor": n, "handoff": state|null}``."""
    if not same(key, chat_key(request.app.state.secret, REST_CHANNEL, sender)):
        raise HTTPException(status_code=404, detail="没有找到这个对话。")
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
