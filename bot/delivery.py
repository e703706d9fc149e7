"""Messages to a family outside their own turn (a counselor's words, a check-in, a goodbye).

Such messages are always stored first (``helpline.messages``), which is what
REST web clients poll through ``GET /api/v1/chats/{sender}/messages``. Channels
that can push (Telegram) register a :class:`Deliverer` for their channel name;
:meth:`Delivery.push` hands each stored message to it. A failed push is logged
and never undoes the stored message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from bot.replies import Button, Reply
from helpline.messages import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbound:
    """A stored message on its way to a family; ``message_id`` makes pushes idempotent."""

    message_id: int
    sender: str
    channel: str
    author: str
    reply: Reply


class Deliverer(Protocol):
    """Pushes a stored message to one channel; raises when it could not."""

    async def deliver(self, outbound: Outbound) -> None: ...


def stored_reply(message: Message) -> Reply:
    """A stored outbound message as a :class:`Reply` (text, buttons, custom data)."""
    payload: dict[str, Any] = message.payload or {}
    buttons = tuple(Button(str(b["title"]), str(b["payload"])) for b in payload.get("buttons") or [])
    return Reply(text=message.text or None, buttons=buttons, custom=payload.get("custom"))


class Delivery:
    """The channel → deliverer registry; channels without one (REST) are polled instead."""

    def __init__(self) -> None:
        self._deliverers: dict[str, Deliverer] = {}

    def register(self, channel: str, deliverer: Deliverer) -> None:
        self._deliverers[channel] = deliverer

    async def push(self, message: Message) -> bool:
        """Hand a stored message to its channel; False when polled or when the push failed."""
        deliverer = self._deliverers.get(message.channel)
        if deliverer is None:
            return False
        outbound = Outbound(
            message.id, message.sender, message.channel, message.author, stored_reply(message)
        )
        try:
            await deliverer.deliver(outbound)
        except Exception:
            log.exception("push of message %s on %s failed; it stays stored", message.id, message.channel)
            return False
        return True
