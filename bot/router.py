"""The channel-agnostic message router: every family message, from any channel, passes here.

Order matters and is the same for every channel: store the message first (so
nothing is lost), then decide who answers, then store and return the replies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.replies import Reply, from_rasa
from helpline.db import transaction
from helpline.messages import Author, Direction, record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """A family's message as any channel delivers it."""

    sender: str
    channel: str
    text: str


class Router:
    """Stores, screens and answers family messages."""

    def __init__(self, sessions: sessionmaker[Session], rasa: RasaClient, max_chars: int) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._max_chars = max_chars

    async def handle(self, message: Inbound) -> list[Reply]:
        """Answer one message; the replies are stored before they are returned."""
        self._store_inbound(message)
        replies = await self._respond(message)
        self._store_replies(message, replies)
        return replies

    def _store_inbound(self, message: Inbound) -> None:
        with transaction(self._sessions) as session:
            record(
                session,
                sender=message.sender,
                channel=message.channel,
                direction=Direction.INBOUND,
                author=Author.FAMILY,
                text=message.text,
            )

    def _store_replies(self, message: Inbound, replies: list[Reply]) -> None:
        with transaction(self._sessions) as session:
            for reply in replies:
                record(
                    session,
                    sender=message.sender,
                    channel=message.channel,
                    direction=Direction.OUTBOUND,
                    author=Author.BOT,
                    text=reply.text or "",
                    payload=reply.stored_payload(),
                )

    async def _respond(self, message: Inbound) -> list[Reply]:
        text = message.text.strip()
        if not text:
            return [Reply(texts.EMPTY_MESSAGE)]
        notes: list[Reply] = []
        if len(text) > self._max_chars:
            notes.append(Reply(texts.TOO_LONG))
            text = text[: self._max_chars]
        return notes + await self._ask_rasa(message.sender, text)

    async def _ask_rasa(self, sender: str, text: str) -> list[Reply]:
        try:
            items = await self._rasa.send(sender, text)
        except RasaUnavailable as error:
            log.warning("rasa unavailable: %s", error)
            return [Reply(texts.ASSISTANT_UNAVAILABLE)]
        replies = [from_rasa(item) for item in items]
        return replies or [Reply(texts.NO_ANSWER)]
