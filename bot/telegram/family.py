"""Families' private chats: one handler per kind of update, all wired in :mod:`bot.telegram.app`.

Text and button presses go through the same router as the web channel (risk
screen, hand-off, Rasa). Commands and things the assistant cannot read are
answered here, and stored like any other message so the transcript is whole.
Every reply is queued in the outbox under the update's id, so a redelivered or
replayed update can never make the family hear the same answer twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.rasa_client import RasaClient, RasaUnavailable
from bot.replies import Button, Reply
from bot.router import Inbound, Router
from bot.telegram import keyboards, texts
from bot.telegram.delivery import Outbox, Outgoing, RetryPolicy, with_retry
from bot.telegram.render import media_kind, reply_bodies
from bot.telegram.senders import CHANNEL, sender_for
from handoff import crisis, queue
from handoff.models import Status
from handoff.texts import HANDOFF_PHRASE
from helpline.db import transaction
from helpline.messages import Author, Direction, record

log = logging.getLogger(__name__)

_HUMAN_BUTTON = (Button(texts.HUMAN_BUTTON, HANDOFF_PHRASE),)


class CounselorView(Protocol):
    """What the counselors' side needs to hear about a family's chat (see counselors.py)."""

    async def family_spoke(self, sender: str) -> None: ...

    async def family_sent_media(self, sender: str, chat_id: int, message_id: int) -> None: ...


class FamilyChat:
    """The family side of the channel; holds no state beyond what it is given."""

    def __init__(
        self,
        router: Router,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        rasa: RasaClient,
        policy: RetryPolicy,
        counselors: CounselorView | None,
    ) -> None:
        self._router = router
        self._sessions = sessions
        self._outbox = outbox
        self._rasa = rasa
        self._policy = policy
        self._counselors = counselors

    # --- commands -------------------------------------------------------------------

    async def start(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Greeting, what the assistant does, privacy, and the crisis lines from the directory."""
        lines = crisis.lines_text(texts.CRISIS_LINES_TITLE, crisis.fresh_help_lines(self._sessions))
        await self._say(update, _typed(update), [Reply(texts.START), Reply(lines)])

    async def help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help, and any command the assistant does not know."""
        await self._say(update, _typed(update), [Reply(texts.HELP)])

    async def human(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The same words a family types to reach a person, so the hand-off decides as usual."""
        await self._route(update, HANDOFF_PHRASE)

    async def cancel(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop what the assistant was asking; a request for a person is never cancelled here."""
        sender = sender_for(update.effective_chat.id)
        with self._sessions() as session:
            ticket = queue.open_ticket_of(session, sender)
        if ticket is not None:
            active = ticket.status == Status.ACTIVE.value
            words = texts.CANCELLED_WITH_COUNSELOR if active else texts.CANCELLED_STILL_WAITING
            await self._say(update, _typed(update), [Reply(words)])
            return
        try:
            await self._rasa.reset_tracker(sender)
        except RasaUnavailable:
            log.warning("rasa unavailable; /cancel for update %d only acknowledged", update.update_id)
        await self._say(update, _typed(update), [Reply(texts.CANCELLED)])

    # --- messages -------------------------------------------------------------------

    async def text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._route(update, update.effective_message.text or "")

    async def button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed button acts as the payload it stands for."""
        query = update.callback_query
        with transaction(self._sessions) as session:
            payload = keyboards.payload_for(session, query.data or "")
        try:
            await with_retry(self._policy, query.answer, "answerCallbackQuery")
        except TelegramError as error:  # the spinner stops by itself; the press still counts
            log.warning(
                "answerCallbackQuery for update %d failed: %s", update.update_id, type(error).__name__
            )
        if payload is None:
            await self._say(update, texts.STORED_KIND["button"], [Reply(texts.BUTTON_EXPIRED)])
            return
        await self._route(update, payload)

    async def media(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice, photos, stickers, locations…: a kind word, and voice gets the offer of a person.

        A family in the queue also has it shown to the counselors; once a counselor
        has the family, the bot keeps quiet and the counselor answers.
        """
        message = update.effective_message
        kind = media_kind(message)
        sender = sender_for(update.effective_chat.id)
        with self._sessions() as session:
            ticket = queue.open_ticket_of(session, sender)
        stored = texts.STORED_KIND[kind]
        if ticket is not None and ticket.status == Status.ACTIVE.value:
            await self._say(update, stored, [])
        elif kind in ("voice", "audio"):
            await self._say(update, stored, [Reply(texts.VOICE, _HUMAN_BUTTON)])
        else:
            await self._say(update, stored, [Reply(texts.NOT_TEXT)])
        if ticket is not None and self._counselors is not None:
            await self._counselors.family_sent_media(sender, message.chat_id, message.message_id)

    # --- shared steps ---------------------------------------------------------------

    async def _route(self, update: Update, text: str) -> None:
        """Through the router (which stores both sides), then out through the outbox."""
        chat_id = update.effective_chat.id
        sender = sender_for(chat_id)
        replies = await self._router.handle(Inbound(sender=sender, channel=CHANNEL, text=text))
        with transaction(self._sessions) as session:
            self._queue_replies(session, update, replies)
        await self._deliver(chat_id, sender)

    async def _say(self, update: Update, stored_as: str, replies: Sequence[Reply]) -> None:
        """Answer without the router: store the family's side and ours, queue ours, send."""
        chat_id = update.effective_chat.id
        sender = sender_for(chat_id)
        with transaction(self._sessions) as session:
            record(
                session,
                sender=sender,
                channel=CHANNEL,
                direction=Direction.INBOUND,
                author=Author.FAMILY,
                text=stored_as,
            )
            for reply in replies:
                record(
                    session,
                    sender=sender,
                    channel=CHANNEL,
                    direction=Direction.OUTBOUND,
                    author=Author.BOT,
                    text=reply.text or "",
                    payload=reply.stored_payload(),
                )
            self._queue_replies(session, update, replies)
        await self._deliver(chat_id, sender)

    async def _deliver(self, chat_id: int, sender: str) -> None:
        """Send what was queued, then let the counselors see the turn if the family is queued."""
        await self._outbox.flush(chat_id)
        if self._counselors is not None:
            await self._counselors.family_spoke(sender)

    def _queue_replies(self, session: Session, update: Update, replies: Sequence[Reply]) -> None:
        items = [
            Outgoing(f"update:{update.update_id}:{index}:{part}", body)
            for index, reply in enumerate(replies)
            for part, body in enumerate(reply_bodies(session, reply))
        ]
        self._outbox.enqueue(session, update.effective_chat.id, items)


def _typed(update: Update) -> str:
    """A command as the family typed it, for the transcript."""
    return update.effective_message.text or ""
