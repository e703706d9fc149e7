"""Each Telegram update handled exactly once, in order per conversation.

Telegram redelivers an update when it is not sure we got it (a webhook that
answered late, polling restarted before the offset was confirmed). The update
id is the key: the first to record it handles it, later copies are dropped. The
raw update is kept until it has been handled, so one received just before a
crash is replayed at start-up instead of lost.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Hashable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.telegram.lanes import Lanes
from bot.telegram.models import ProcessedUpdate, UpdateState, insert_if_absent
from helpline.db import transaction, utcnow

log = logging.getLogger(__name__)

KEEP_HANDLED = timedelta(days=2)
"""Telegram gives up redelivering after a day; ids older than this are forgotten."""


class Inbox:
    """The ``telegram_updates`` table: received → processing → done."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def accept(self, update_id: int, body: dict[str, Any]) -> bool:
        """Record a new update (the webhook does this before answering 200); False if seen."""
        with transaction(self._sessions) as session:
            return insert_if_absent(
                session,
                ProcessedUpdate,
                update_id=update_id,
                state=UpdateState.RECEIVED.value,
                body=body,
                received_at=utcnow(),
            )

    def begin(self, update_id: int, body: dict[str, Any]) -> bool:
        """Claim an update for handling; exactly one caller gets True for each update id."""
        self.accept(update_id, body)
        with transaction(self._sessions) as session:
            claimed = session.execute(
                update(ProcessedUpdate)
                .where(
                    ProcessedUpdate.update_id == update_id,
                    ProcessedUpdate.state == UpdateState.RECEIVED.value,
                )
                .values(state=UpdateState.PROCESSING.value)
            )
        return claimed.rowcount == 1

    def finish(self, update_id: int) -> None:
        """Handled: forget the content, keep the id so a redelivery is recognised."""
        with transaction(self._sessions) as session:
            session.execute(
                update(ProcessedUpdate)
                .where(ProcessedUpdate.update_id == update_id)
                .values(state=UpdateState.DONE.value, body=None, done_at=utcnow())
            )

    def unfinished(self) -> list[dict[str, Any]]:
        """At start-up: updates a crash interrupted, made claimable again, oldest first."""
        with transaction(self._sessions) as session:
            session.execute(
                update(ProcessedUpdate)
                .where(ProcessedUpdate.state == UpdateState.PROCESSING.value)
                .values(state=UpdateState.RECEIVED.value)
            )
            rows = session.scalars(
                select(ProcessedUpdate.body)
                .where(ProcessedUpdate.state == UpdateState.RECEIVED.value, ProcessedUpdate.body.is_not(None))
                .order_by(ProcessedUpdate.update_id)
            )
            return [dict(body) for body in rows]

    def prune(self) -> int:
        """Drop ids of updates handled long ago; returns how many."""
        with transaction(self._sessions) as session:
            result = session.execute(
                delete(ProcessedUpdate).where(
                    ProcessedUpdate.state == UpdateState.DONE.value,
                    ProcessedUpdate.done_at < utcnow() - KEEP_HANDLED,
                )
            )
        return result.rowcount


def lane_of(update: Update) -> Hashable:
    """A private chat, or one forum topic of a group: what must stay in order."""
    chat = update.effective_chat
    message = update.effective_message
    thread = message.message_thread_id if message is not None else None
    return (chat.id if chat else None, thread)


class OnceInOrderProcessor(BaseUpdateProcessor):
    """PTB's extension point for concurrency: conversations run side by side, each in order,
    and an update already handled (or being handled) is dropped."""

    def __init__(self, inbox: Inbox, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._inbox = inbox
        self._lanes = Lanes()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update):
            await coroutine
            return
        async with self._lanes.hold(lane_of(update)):
            if not self._inbox.begin(update.update_id, update.to_dict()):
                log.info("update %d already handled; dropped", update.update_id)
                coroutine.close()  # type: ignore[attr-defined]
                return
            await coroutine
            self._inbox.finish(update.update_id)

    async def initialize(self) -> None:
        """Nothing to open: the inbox uses the gateway's session factory."""

    async def shutdown(self) -> None:
        """Nothing to close; unfinished updates stay in the inbox for the next start."""


def replay(inbox: Inbox, bot: Bot) -> list[Update]:
    """The updates to feed the application again after a crash."""
    return [Update.de_json(body, bot) for body in inbox.unfinished()]
