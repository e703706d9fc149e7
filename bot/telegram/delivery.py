"""Sending to Telegram without losing a message or sending one twice.

Every outgoing message is first written to ``telegram_outbox`` under a key that
names what it stands for (the reply to update 812, stored message 77, the copy
of a counselor's message…), then sent. Keys are unique, so queueing the same
message again is a no-op, and a row marked sent is never sent again, even after
a restart. Rows are sent one at a time per lane (a chat, or a ticket's topic) in
the order they were queued; when Telegram keeps failing, the row stays pending
and the lane waits for the next flush, so later messages cannot overtake it.

Flood control (429 RetryAfter), network errors, 5xx and timeouts are retried with
exponential backoff (RetryAfter waits exactly as long as Telegram asks, up to the
policy's cap; a longer ban leaves the row to the periodic flush). One case
cannot be made exactly-once by any Bot API client: a read timeout after Telegram
accepted the message. It is retried, because a family hearing something twice is
better than never hearing it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.delivery import Outbound
from bot.telegram.lanes import Lanes
from bot.telegram.models import OutboxMessage, OutboxState, insert_if_absent
from bot.telegram.render import reply_bodies
from bot.telegram.senders import chat_id_for
from helpline.db import transaction, utcnow
from helpline.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

_LOST_TOPIC_ERRORS = ("message thread not found", "topic_deleted", "topic_id_invalid", "topic_closed")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; tests shrink ``base`` so backoff costs milliseconds."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(attempts=max(1, settings.telegram_retry_attempts), base=settings.telegram_retry_base)

    def pause(self, attempt: int, error: TelegramError) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        if isinstance(error, RetryAfter):
            return retry_after_seconds(error)
        return min(self.cap, self.base * 2**attempt) * random.uniform(0.5, 1.0)


def retry_after_seconds(error: RetryAfter) -> float:
    """What Telegram asked for, as seconds, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_retryable(error: Exception) -> bool:
    """Flood control and transient network trouble; a 400 (BadRequest) never gets better."""
    return isinstance(error, RetryAfter) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    )


def is_lost_topic(error: TelegramError) -> bool:
    """Telegram's ways of saying a forum topic was deleted or is unusable."""
    return isinstance(error, BadRequest) and any(text in error.message.lower() for text in _LOST_TOPIC_ERRORS)


async def with_retry(policy: RetryPolicy, call: Callable[[], Awaitable[T]], what: str) -> T:
    """Await ``call()``; retry transient Telegram errors with backoff, re-raise the rest."""
    for attempt in range(policy.attempts):
        try:
            return await call()
        except TelegramError as error:
            if not is_retryable(error) or attempt == policy.attempts - 1:
                raise
            pause = policy.pause(attempt, error)
            if pause > policy.cap:  # a long flood ban: the caller's lane waits for a later flush
                raise
            log.warning(
                "telegram %s failed (%s); retry %d in %.2fs", what, type(error).__name__, attempt + 1, pause
            )
            await asyncio.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


class TopicResolver(Protocol):
    """Finds (or makes) the forum topic of a ticket; implemented by :class:`counselors.Topics`."""

    async def thread_for(self, ticket_id: int) -> int: ...

    async def topic_lost(self, ticket_id: int) -> None: ...


@dataclass(frozen=True)
class Outgoing:
    """One queued message: what it stands for (``key``) and the Bot API parameters."""

    key: str
    body: dict[str, Any]


def text_body(text: str) -> dict[str, Any]:
    return {"text": text}


def copy_body(from_chat_id: int, message_id: int) -> dict[str, Any]:
    return {"copy_from_chat_id": from_chat_id, "copy_message_id": message_id}


@dataclass(frozen=True)
class _Row:
    id: int
    chat_id: int
    ticket_id: int | None
    body: dict[str, Any]


class Outbox:
    """The only way this channel sends chat messages (answers to button presses are not messages)."""

    def __init__(
        self,
        bot: Bot,
        sessions: sessionmaker[Session],
        policy: RetryPolicy,
        topics: TopicResolver | None = None,
    ) -> None:
        self._bot = bot
        self._sessions = sessions
        self._policy = policy
        self._topics = topics
        self._lanes = Lanes()

    def enqueue(
        self, session: Session, chat_id: int, items: Sequence[Outgoing], ticket_id: int | None = None
    ) -> None:
        """Queue messages inside the caller's transaction; keys already queued are skipped."""
        for item in items:
            insert_if_absent(
                session,
                OutboxMessage,
                key=item.key,
                chat_id=chat_id,
                ticket_id=ticket_id,
                state=OutboxState.PENDING.value,
                body=item.body,
                attempts=0,
                created_at=utcnow(),
            )

    async def send(self, chat_id: int, items: Sequence[Outgoing], ticket_id: int | None = None) -> bool:
        """Queue and send now; False when Telegram is down and the rest waits for the next flush."""
        with transaction(self._sessions) as session:
            self.enqueue(session, chat_id, items, ticket_id)
        return await self.flush(chat_id, ticket_id)

    async def flush(self, chat_id: int, ticket_id: int | None = None) -> bool:
        """Send a lane's pending rows in order; True when the lane is empty afterwards."""
        async with self._lanes.hold((chat_id, ticket_id)):
            while (row := self._take_next(chat_id, ticket_id)) is not None:
                if not await self._deliver(row):
                    return False
            return True

    async def flush_all(self) -> None:
        """Every lane with pending rows: the periodic safety net after an outage."""
        with self._sessions() as session:
            lanes = session.execute(
                select(OutboxMessage.chat_id, OutboxMessage.ticket_id)
                .where(OutboxMessage.state == OutboxState.PENDING.value)
                .distinct()
            ).all()
        for chat_id, ticket_id in lanes:
            await self.flush(chat_id, ticket_id)

    def recover(self) -> int:
        """At start-up: rows a crash left half-sent go back to pending. Returns how many."""
        with transaction(self._sessions) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.SENDING.value)
                .values(state=OutboxState.PENDING.value)
            )
        return result.rowcount

    def _take_next(self, chat_id: int, ticket_id: int | None) -> _Row | None:
        """The lane's oldest pending row, marked sending by one conditional UPDATE."""
        same_ticket = (
            OutboxMessage.ticket_id.is_(None) if ticket_id is None else OutboxMessage.ticket_id == ticket_id
        )
        with transaction(self._sessions) as session:
            row = session.scalar(
                select(OutboxMessage)
                .where(
                    OutboxMessage.chat_id == chat_id,
                    same_ticket,
                    OutboxMessage.state == OutboxState.PENDING.value,
                )
                .order_by(OutboxMessage.id)
                .limit(1)
            )
            if row is None:
                return None
            taken = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.PENDING.value)
                .values(state=OutboxState.SENDING.value, attempts=OutboxMessage.attempts + 1)
            )
            if taken.rowcount != 1:
                return None
            return _Row(row.id, row.chat_id, row.ticket_id, dict(row.body or {}))

    async def _deliver(self, row: _Row) -> bool:
        """Send one row; True to go on with the lane, False to stop it until the next flush."""
        try:
            message_id = (
                await self._send_into_topic(row) if row.ticket_id is not None else await self._call(row)
            )
        except TelegramError as error:
            if is_retryable(error):
                self._finish(row, OutboxState.PENDING, error=error)
                log.warning("outbox row %d waits for the next flush (%s)", row.id, type(error).__name__)
                return False
            self._finish(row, OutboxState.FAILED, error=error)
            log.error(
                "outbox row %d to chat %d failed for good: %s", row.id, row.chat_id, type(error).__name__
            )
            return True
        except Exception as error:  # a database or topic hiccup must not strand the row as "sending"
            self._finish(row, OutboxState.PENDING, error=error)
            log.exception("outbox row %d waits for the next flush", row.id)
            return False
        self._finish(row, OutboxState.SENT, message_id=message_id)
        return True

    async def _send_into_topic(self, row: _Row) -> int:
        """Topic rows resolve their thread at send time; a deleted topic is made again once."""
        assert self._topics is not None and row.ticket_id is not None
        try:
            return await self._call(row, await self._topics.thread_for(row.ticket_id))
        except BadRequest as error:
            if not is_lost_topic(error):
                raise
            log.warning("topic of ticket %d is gone; making it again", row.ticket_id)
            await self._topics.topic_lost(row.ticket_id)
            return await self._call(row, await self._topics.thread_for(row.ticket_id))

    async def _call(self, row: _Row, thread_id: int | None = None) -> int:
        body = row.body
        if "copy_from_chat_id" in body:
            copied = await with_retry(
                self._policy,
                lambda: self._bot.copy_message(
                    chat_id=row.chat_id,
                    from_chat_id=body["copy_from_chat_id"],
                    message_id=body["copy_message_id"],
                    message_thread_id=thread_id,
                ),
                "copyMessage",
            )
            return copied.message_id
        markup = body.get("reply_markup")
        sent = await with_retry(
            self._policy,
            lambda: self._bot.send_message(
                chat_id=row.chat_id,
                text=body["text"],
                message_thread_id=thread_id,
                reply_markup=InlineKeyboardMarkup.de_json(markup, self._bot) if markup else None,
            ),
            "sendMessage",
        )
        return sent.message_id

    def _finish(
        self,
        row: _Row,
        state: OutboxState,
        *,
        message_id: int | None = None,
        error: Exception | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state.value}
        if state is OutboxState.SENT:
            values |= {
                "telegram_message_id": message_id,
                "sent_at": utcnow(),
                "body": None,
                "last_error": None,
            }
        if error is not None:
            values["last_error"] = type(error).__name__
        with transaction(self._sessions) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values))


class TelegramDeliverer:
    """The gateway's deliverer for the ``telegram`` channel: stored messages, keyed on their id.

    Counselor words, check-ins and goodbyes are stored by the hand-off first; the
    key ``message:<id>:<part>`` makes a second push of the same message a no-op.
    """

    def __init__(self, sessions: sessionmaker[Session], outbox: Outbox) -> None:
        self._sessions = sessions
        self._outbox = outbox

    async def deliver(self, outbound: Outbound) -> None:
        chat_id = chat_id_for(outbound.sender)
        if chat_id is None:
            raise ValueError(f"message {outbound.message_id} has no telegram chat")
        with transaction(self._sessions) as session:
            bodies = reply_bodies(session, outbound.reply)
            items = [message_item(outbound.message_id, part, body) for part, body in enumerate(bodies)]
            self._outbox.enqueue(session, chat_id, items)
        await self._outbox.flush(chat_id)


def message_item(message_id: int, part: int, body: dict[str, Any]) -> Outgoing:
    """A stored message (or one part of it) as an outbox item; the one home of its key."""
    return Outgoing(f"message:{message_id}:{part}", body)
