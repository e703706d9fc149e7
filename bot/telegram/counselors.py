"""The counselors' supergroup: a forum topic per ticket, a pinned queue, and the desk commands.

Telegram only shows the queue; the database is the queue. "接入", /note,
/transfer and /close call the same hand-off functions as the HTTP API, so a
press racing a web claim still has exactly one winner. Each topic is named by
priority and ticket number only, never by a family's name; its first post is
the summary. What the family says afterwards is mirrored into the topic, and
what an allow-listed counselor writes there (after claiming) is copied to the
family. A topic someone deleted is made again, with the transcript, from the
database: the ticket and its history never depend on Telegram.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, CallbackQuery, Message, Update
from telegram import User as TelegramUser
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.telegram import keyboards, texts
from bot.telegram.delivery import (
    Outbox,
    Outgoing,
    RetryPolicy,
    copy_body,
    message_item,
    text_body,
    with_retry,
)
from bot.telegram.lanes import Lanes
from bot.telegram.models import PinnedQueue, TopicLink
from bot.telegram.render import split_text, stored_text
from bot.telegram.senders import CHANNEL, chat_id_for
from handoff import notify, queue
from handoff.models import OPEN_STATUSES, Status, Ticket
from handoff.summary import Summary, summarise, transcript
from helpline.access_log import log_access
from helpline.db import transaction, utcnow
from helpline.messages import AUTHOR_LABELS, Author, since
from helpline.messages import Message as StoredMessage
from helpline.users import Role, User

log = logging.getLogger(__name__)

BEIJING = timezone(timedelta(hours=8))
SUMMARY_MESSAGES = 30
"""The summary shows this many of the latest messages; the rest stay in the database."""

QUEUE_ROWS = 60
"""Rows the pinned queue shows (the most urgent first), keeping it under Telegram's length limit."""

GROUP_READER = "telegram-group"
"""Who the access log names when personal data is posted to the counselors' group."""

CLOSE_OUTCOME = "resolved"


def counselor_name(user_id: int) -> str:
    """How a Telegram counselor is named in tickets and events."""
    return f"tg:{user_id}"


def topic_name(ticket: Ticket) -> str:
    """'🔴危机 #12': priority and ticket number, nothing that identifies the family."""
    if ticket.status == Status.CLOSED.value:
        return f"{texts.CLOSED_MARK} #{ticket.id}"
    return f"{texts.PRIORITY_LABELS.get(ticket.priority, ticket.priority)} #{ticket.id}"


def _clock(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%m-%d %H:%M")


def transcript_line(message: StoredMessage) -> str:
    who = AUTHOR_LABELS.get(message.author, message.author)
    return f"{who} {_clock(message.created_at)}：{message.text}"


def summary_text(ticket: Ticket, messages: Sequence[StoredMessage], summary: Summary, recreated: bool) -> str:
    """The first post of a topic: who is waiting how urgently, why, and what was said."""
    lines = [texts.TOPIC_RECREATED] if recreated else []
    lines.append(
        texts.SUMMARY_HEAD.format(
            name=topic_name(ticket),
            status=texts.STATUS_LABELS.get(ticket.status, ticket.status),
            channel=texts.CHANNEL_LABELS.get(ticket.channel, ticket.channel),
            opened=_clock(ticket.opened_at),
        )
    )
    if summary.risk_signals:
        risks = "；".join(
            f"{texts.LEVEL_LABELS.get(s['level'], s['level'])}·{s['category']}「{s['term']}」"
            for s in summary.risk_signals
        )
        lines.append(texts.SUMMARY_RISKS + risks)
    if summary.intents:
        lines.append(texts.SUMMARY_INTENTS + "、".join(dict.fromkeys(i["intent"] for i in summary.intents)))
    lines.append(texts.SUMMARY_TRANSCRIPT)
    shown = [transcript_line(message) for message in messages[-SUMMARY_MESSAGES:]]
    lines.extend(shown or [texts.TRANSCRIPT_EMPTY])
    return "\n".join(lines)


def queue_text(waiting: Sequence[Ticket], active: Sequence[Ticket]) -> str:
    """The pinned message: waiting tickets in queue order, then those being served."""
    if not waiting and not active:
        return texts.QUEUE_EMPTY
    rows = [f"{topic_name(t)} · {texts.STATUS_LABELS['waiting']} · {_clock(t.opened_at)}" for t in waiting]
    for ticket in active:
        serving = texts.QUEUE_ACTIVE.format(counselor=ticket.claimed_by)
        rows.append(f"{topic_name(ticket)} · {serving} · {_clock(ticket.opened_at)}")
    hidden = len(rows) - QUEUE_ROWS
    shown = rows[:QUEUE_ROWS] + ([texts.QUEUE_MORE.format(count=hidden)] if hidden > 0 else [])
    return "\n".join([texts.QUEUE_TITLE.format(count=len(rows)), *shown])


def _refusal_text(refusal: Exception) -> str:
    """What a counselor is told when the hand-off refuses (someone else holds it, closed…)."""
    if isinstance(refusal, queue.NotHolder):
        holder = refusal.args[0] if refusal.args else None
        return texts.NOT_YOURS.format(counselor=holder) if holder else texts.NOT_CLAIMED
    state = refusal.args[0] if isinstance(refusal, queue.Conflict) and refusal.args else None
    return {Status.WAITING.value: texts.NOT_CLAIMED, Status.ACTIVE.value: texts.CLAIMED_BY_OTHER}.get(
        state, texts.TICKET_CLOSED
    )


def _refused(user: TelegramUser | None) -> None:
    """Setting up: name the Telegram user id an operator may add to TELEGRAM_COUNSELOR_IDS."""
    log.warning("telegram user %s is not on TELEGRAM_COUNSELOR_IDS; refused", user.id if user else None)


def _is_mirrored(message: StoredMessage) -> bool:
    """Counselor words written in the topic are already there; everything else is shown."""
    return not (message.author == Author.COUNSELOR.value and (message.payload or {}).get("telegram"))


def _not_modified(error: BadRequest) -> bool:
    """Telegram's "nothing changed" (spelt two ways), which for us means done."""
    message = error.message.lower()
    return "not modified" in message or "not_modified" in message


@dataclass(frozen=True)
class TopicView:
    thread_id: int | None
    summary_message_id: int | None
    lost_count: int
    name: str
    closed: bool


async def unknown_group(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Setting up: name the id of a group the bot is in, for TELEGRAM_COUNSELOR_CHAT_ID.

    Families only ever write in private chats, so nothing else is done with such messages.
    """
    log.info(
        "telegram group %s is not the counselors' chat (TELEGRAM_COUNSELOR_CHAT_ID)", update.effective_chat.id
    )


class Topics:
    """The forum topic of each ticket, made on first use; the outbox's ``TopicResolver``.

    Topic creation and the summary post go straight to Telegram (with retries), not
    through the outbox: both are rebuilt from the database whenever they are missing.
    """

    def __init__(self, bot: Bot, sessions: sessionmaker[Session], policy: RetryPolicy, chat_id: int) -> None:
        self._bot = bot
        self._sessions = sessions
        self._policy = policy
        self.chat_id = chat_id
        self._lanes = Lanes()

    async def thread_for(self, ticket_id: int) -> int:
        async with self._lanes.hold(ticket_id):
            link = self.link(ticket_id)
            if link is None or link.thread_id is None:
                link = await self._create(ticket_id, link)
            assert link.thread_id is not None
            if link.summary_message_id is None:
                await self._post_summary(ticket_id, link.thread_id, recreated=link.lost_count > 0)
            return link.thread_id

    async def topic_lost(self, ticket_id: int) -> None:
        with transaction(self._sessions) as session:
            session.execute(
                update(TopicLink)
                .where(TopicLink.ticket_id == ticket_id, TopicLink.thread_id.is_not(None))
                .values(thread_id=None, summary_message_id=None, lost_count=TopicLink.lost_count + 1)
            )

    def ticket_for_thread(self, thread_id: int | None) -> int | None:
        if thread_id is None:
            return None
        with self._sessions() as session:
            return session.scalar(
                select(TopicLink.ticket_id).where(
                    TopicLink.chat_id == self.chat_id, TopicLink.thread_id == thread_id
                )
            )

    def link(self, ticket_id: int) -> TopicView | None:
        with self._sessions() as session:
            row = session.get(TopicLink, ticket_id)
            if row is None:
                return None
            return TopicView(row.thread_id, row.summary_message_id, row.lost_count, row.name, row.closed)

    async def rename(self, ticket: Ticket) -> None:
        """Keep the topic name in step with the ticket (priority raised, closed)."""
        name = topic_name(ticket)
        link = self.link(ticket.id)
        if link is None or link.name == name:
            return
        thread_id = await self.thread_for(ticket.id)
        try:
            await with_retry(
                self._policy,
                lambda: self._bot.edit_forum_topic(self.chat_id, thread_id, name=name),
                "editForumTopic",
            )
        except BadRequest as error:
            if not _not_modified(error):
                raise
        self._update(ticket.id, name=name)

    async def close(self, ticket_id: int) -> None:
        """Close the topic of a closed ticket; it stays readable in the group."""
        thread_id = await self.thread_for(ticket_id)
        try:
            await with_retry(
                self._policy, lambda: self._bot.close_forum_topic(self.chat_id, thread_id), "closeForumTopic"
            )
        except BadRequest as error:
            if not _not_modified(error):
                raise
        self._update(ticket_id, closed=True)

    def _update(self, ticket_id: int, **values: object) -> None:
        with transaction(self._sessions) as session:
            session.execute(update(TopicLink).where(TopicLink.ticket_id == ticket_id).values(**values))

    async def _create(self, ticket_id: int, old: TopicView | None) -> TopicView:
        with self._sessions() as session:
            ticket = queue.get(session, ticket_id)
            if ticket is None:
                raise LookupError(ticket_id)
            name = topic_name(ticket)
        topic = await with_retry(
            self._policy, lambda: self._bot.create_forum_topic(self.chat_id, name), "createForumTopic"
        )
        with transaction(self._sessions) as session:
            if session.get(TopicLink, ticket_id) is None:
                session.add(TopicLink(ticket_id=ticket_id, chat_id=self.chat_id, created_at=utcnow()))
        self._update(
            ticket_id, thread_id=topic.message_thread_id, name=name, summary_message_id=None, closed=False
        )
        log.info("ticket %d has forum topic %d", ticket_id, topic.message_thread_id)
        return TopicView(topic.message_thread_id, None, old.lost_count if old else 0, name, False)

    async def _post_summary(self, ticket_id: int, thread_id: int, recreated: bool) -> None:
        with transaction(self._sessions) as session:
            ticket = queue.get(session, ticket_id)
            assert ticket is not None
            messages = transcript(session, ticket)
            text = summary_text(ticket, messages, summarise(session, messages), recreated)
            log_access(session, GROUP_READER, "post_summary", f"handoff:{ticket_id}")
            claimable = ticket.status == Status.WAITING.value
            last_message_id = messages[-1].id if messages else 0
        parts = split_text(text)
        last_sent = 0
        for index, part in enumerate(parts):
            keyboard = keyboards.claim_keyboard(ticket_id) if claimable and index == len(parts) - 1 else None
            sent = await with_retry(
                self._policy,
                lambda part=part, keyboard=keyboard: self._bot.send_message(
                    self.chat_id, part, message_thread_id=thread_id, reply_markup=keyboard
                ),
                "sendMessage",
            )
            last_sent = sent.message_id
        with transaction(self._sessions) as session:
            row = session.get(TopicLink, ticket_id)
            assert row is not None
            row.summary_message_id = last_sent
            row.mirrored_message_id = max(row.mirrored_message_id, last_message_id)


@dataclass(frozen=True)
class _Context:
    """An allow-listed counselor acting inside a ticket's topic."""

    ticket_id: int
    counselor: str


class CounselorDesk:
    """Handlers for the counselors' group, the hand-off ``Notifier``, and the topic mirror."""

    def __init__(
        self,
        bot: Bot,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        topics: Topics,
        policy: RetryPolicy,
        counselor_ids: Sequence[int],
        push: Callable[[StoredMessage], Awaitable[object]],
    ) -> None:
        self._bot = bot
        self._sessions = sessions
        self._outbox = outbox
        self._topics = topics
        self._policy = policy
        self._allowed = frozenset(counselor_ids)
        self._push = push
        self._queue_lock = asyncio.Lock()

    @property
    def chat_id(self) -> int:
        return self._topics.chat_id

    # --- the hand-off's Notifier ------------------------------------------------------

    async def notify(self, notice: notify.Notice) -> None:
        """Show a notice in the ticket's topic; raises so the hand-off retries if Telegram is down."""
        await self.sync_ticket(notice.ticket_id)
        line = self._notice_line(notice)
        if line is not None:
            await self._post(notice.ticket_id, f"notice:{notice.id}", line)
        await self.refresh_queue()

    def _notice_line(self, notice: notify.Notice) -> str | None:
        if notice.kind == notify.Kind.PRIORITY_RAISED:
            return texts.PRIORITY_NOTE.format(
                label=texts.PRIORITY_LABELS.get(notice.priority, notice.priority)
            )
        if notice.kind == notify.Kind.UNCLAIMED:
            return texts.UNCLAIMED_NOTE
        if notice.kind == notify.Kind.TRANSFERRED:
            return texts.TRANSFERRED_NOTE.format(counselor=notice.audience.removeprefix("counselor:"))
        return None

    # --- keeping Telegram in step with the database ---------------------------------

    async def sync_ticket(self, ticket_id: int) -> None:
        """Topic present and named right, closed when the ticket is, new messages shown."""
        with self._sessions() as session:
            ticket = queue.get(session, ticket_id)
        if ticket is None:
            return
        link = self._topics.link(ticket_id)
        closed = ticket.status == Status.CLOSED.value
        if closed and (link is None or link.closed or link.thread_id is None):
            return
        await self._topics.thread_for(ticket_id)
        await self.mirror(ticket_id)
        await self._topics.rename(ticket)
        if closed:
            await self._topics.close(ticket_id)

    async def sync(self) -> None:
        """The periodic pass: every open ticket and every topic of a ticket closed elsewhere."""
        with self._sessions() as session:
            open_ids = session.scalars(select(Ticket.id).where(Ticket.status.in_(OPEN_STATUSES))).all()
            closed_ids = session.scalars(
                select(TopicLink.ticket_id)
                .join(Ticket, Ticket.id == TopicLink.ticket_id)
                .where(Ticket.status == Status.CLOSED.value, TopicLink.closed.is_(False))
            ).all()
        for ticket_id in [*open_ids, *closed_ids]:
            await self.sync_ticket(ticket_id)
        await self.refresh_queue()

    async def mirror(self, ticket_id: int) -> None:
        """Post the family's messages (and the bot's answers) the topic has not shown yet."""
        with transaction(self._sessions) as session:
            ticket = queue.get(session, ticket_id)
            link = session.get(TopicLink, ticket_id)
            if ticket is None or link is None or link.summary_message_id is None:
                return
            new = since(session, ticket.sender, after=link.mirrored_message_id)
            if not new:
                return
            items = [
                Outgoing(f"mirror:{ticket_id}:{message.id}:{part}", text_body(text))
                for message in new
                if _is_mirrored(message)
                for part, text in enumerate(split_text(transcript_line(message)))
            ]
            self._outbox.enqueue(session, self.chat_id, items, ticket_id)
            link.mirrored_message_id = new[-1].id
        await self._outbox.flush(self.chat_id, ticket_id)

    async def refresh_queue(self) -> None:
        """Edit the pinned queue message when its text changed; post and pin it if it is gone."""
        with self._sessions() as session:
            text = queue_text(queue.ordered(session, Status.WAITING), queue.ordered(session, Status.ACTIVE))
        async with self._queue_lock:
            with self._sessions() as session:
                pinned = session.get(PinnedQueue, self.chat_id)
                current = (pinned.message_id, pinned.text) if pinned else None
            if current is not None and current[1] == text:
                return
            if current is not None and await self._edit_queue(current[0], text):
                self._save_queue(current[0], text)
                return
            sent = await with_retry(
                self._policy, lambda: self._bot.send_message(self.chat_id, text), "sendMessage"
            )
            await with_retry(
                self._policy,
                lambda: self._bot.pin_chat_message(self.chat_id, sent.message_id, disable_notification=True),
                "pinChatMessage",
            )
            self._save_queue(sent.message_id, text)

    async def _edit_queue(self, message_id: int, text: str) -> bool:
        """False when the pinned message is gone (deleted by someone) and must be posted again."""
        try:
            await with_retry(
                self._policy,
                lambda: self._bot.edit_message_text(text, chat_id=self.chat_id, message_id=message_id),
                "editMessageText",
            )
        except BadRequest as error:
            if _not_modified(error):
                return True
            log.warning("pinned queue message %d not editable (%s); posting anew", message_id, error.message)
            return False
        return True

    def _save_queue(self, message_id: int, text: str) -> None:
        with transaction(self._sessions) as session:
            pinned = session.get(PinnedQueue, self.chat_id)
            if pinned is None:
                session.add(
                    PinnedQueue(chat_id=self.chat_id, message_id=message_id, text=text, updated_at=utcnow())
                )
            else:
                pinned.message_id, pinned.text, pinned.updated_at = message_id, text, utcnow()

    # --- the family side tells us -----------------------------------------------------

    async def family_spoke(self, sender: str) -> None:
        """A family in the queue said something: show it in the topic now, not at the next tick."""
        ticket_id = self._open_ticket_id(sender)
        if ticket_id is None:
            return
        try:
            await self.sync_ticket(ticket_id)
        except TelegramError as error:
            log.warning(
                "topic of ticket %d not updated (%s); the next sync retries", ticket_id, type(error).__name__
            )

    async def family_sent_media(self, sender: str, chat_id: int, message_id: int) -> None:
        """A photo, voice… from a family in the queue is copied into the topic for the counselor."""
        ticket_id = self._open_ticket_id(sender)
        if ticket_id is None:
            return
        item = Outgoing(f"media:{chat_id}:{message_id}", copy_body(chat_id, message_id))
        await self._outbox.send(self.chat_id, [item], ticket_id)

    def _open_ticket_id(self, sender: str) -> int | None:
        with self._sessions() as session:
            ticket = queue.open_ticket_of(session, sender)
            return ticket.id if ticket else None

    # --- handlers -------------------------------------------------------------------

    async def claim(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The "接入" button: the hand-off's conditional claim decides who gets the family."""
        query = update.callback_query
        ticket_id = keyboards.claimed_ticket_id(query.data or "")
        user = update.effective_user
        if ticket_id is None or user is None or user.id not in self._allowed:
            _refused(user)
            await self._answer(query, texts.NOT_ALLOWED)
            return
        name = counselor_name(user.id)
        try:
            with transaction(self._sessions) as session:
                _, hello = queue.claim(session, ticket_id, name, utcnow())
                log_access(session, name, "claim", f"handoff:{ticket_id}")
        except (queue.Conflict, LookupError) as refusal:
            await self._answer(query, _refusal_text(refusal))
            return
        await self._answer(query, texts.CLAIMED_BY_YOU)
        await self._push(hello)
        await self._post(ticket_id, f"claimed:{ticket_id}:{name}", texts.CLAIMED_NOTE.format(counselor=name))
        await self._drop_claim_button(ticket_id)
        await self.refresh_queue()

    async def note(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/note text: a private note on the ticket, never shown to the family."""
        desk = await self._desk_context(update)
        if desk is None:
            return
        text = " ".join(context.args or []).strip()
        if not text:
            await self._reply(update, desk, texts.NOTE_USAGE)
            return
        with transaction(self._sessions) as session:
            queue.add_note(session, self._ticket(session, desk), desk.counselor, text)
        await self._reply(update, desk, texts.NOTE_SAVED)

    async def transfer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/transfer <Telegram user id or counselor name>: hand one's own ticket to a colleague."""
        desk = await self._desk_context(update)
        if desk is None:
            return
        target = self._colleague(" ".join(context.args or []).strip())
        if target is None:
            await self._reply(update, desk, texts.TRANSFER_UNKNOWN)
            return
        try:
            with transaction(self._sessions) as session:
                ticket = self._ticket(session, desk)
                words = queue.transfer(session, ticket, by=desk.counselor, to=target, now=utcnow())
        except (queue.Conflict, queue.NotHolder) as refusal:
            await self._reply(update, desk, _refusal_text(refusal))
            return
        await self._push(words)
        await self._reply(update, desk, texts.TRANSFERRED.format(counselor=target))
        await self.refresh_queue()

    async def close(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/close [note]: end the hand-off; the family is told and goes back to the assistant."""
        desk = await self._desk_context(update)
        if desk is None:
            return
        note = " ".join(context.args or []).strip()
        try:
            with transaction(self._sessions) as session:
                ticket = self._ticket(session, desk)
                goodbye = queue.close(session, ticket, desk.counselor, CLOSE_OUTCOME, note, utcnow())
        except (queue.Conflict, queue.NotHolder) as refusal:
            await self._reply(update, desk, _refusal_text(refusal))
            return
        await self._push(goodbye)
        closed_note = texts.CLOSED_NOTE.format(counselor=desk.counselor)
        await self._post(desk.ticket_id, f"closed:{desk.ticket_id}", closed_note)
        await self.sync_ticket(desk.ticket_id)
        await self.refresh_queue()

    async def topic_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A counselor's message in a ticket's topic goes to the family, as a copy."""
        message = update.effective_message
        user = update.effective_user
        ticket_id = self._topics.ticket_for_thread(message.message_thread_id)
        if ticket_id is None or user is None or user.id not in self._allowed:
            return
        desk = _Context(ticket_id, counselor_name(user.id))
        try:
            with transaction(self._sessions) as session:
                ticket = self._ticket(session, desk)
                words = queue.counselor_says(session, ticket, desk.counselor, stored_text(message), utcnow())
                words.payload = {"telegram": {"chat_id": message.chat_id, "message_id": message.message_id}}
        except (queue.Conflict, queue.NotHolder) as refusal:
            await self._reply(update, desk, _refusal_text(refusal))
            return
        await self._tell_family(words, copy_of=message)

    # --- shared steps ---------------------------------------------------------------

    async def _desk_context(self, update: Update) -> _Context | None:
        """The ticket and counselor of a command, or None after telling the sender why not."""
        message = update.effective_message
        user = update.effective_user
        ticket_id = self._topics.ticket_for_thread(message.message_thread_id)
        if user is None or user.id not in self._allowed:
            _refused(user)
            await self._answer_in_place(message, texts.NOT_ALLOWED)
            return None
        if ticket_id is None:
            await self._answer_in_place(message, texts.NOT_A_TICKET_TOPIC)
            return None
        return _Context(ticket_id, counselor_name(user.id))

    def _colleague(self, wanted: str) -> str | None:
        """An allow-listed Telegram id, or the name of an active counselor account."""
        if wanted.isdigit():
            return counselor_name(int(wanted)) if int(wanted) in self._allowed else None
        if not wanted:
            return None
        with self._sessions() as session:
            user = session.scalar(
                select(User).where(
                    User.name == wanted,
                    User.active.is_(True),
                    User.role.in_([Role.COUNSELOR.value, Role.ADMIN.value]),
                )
            )
        return user.name if user else None

    @staticmethod
    def _ticket(session: Session, desk: _Context) -> Ticket:
        ticket = queue.get(session, desk.ticket_id)
        if ticket is None:
            raise LookupError(desk.ticket_id)
        return ticket

    async def _tell_family(self, stored: StoredMessage, copy_of: Message) -> None:
        """A counselor's words to the family: a Telegram family gets a copy of the counselor's
        own message (photos too); any other channel gets the stored text its usual way."""
        family_chat = chat_id_for(stored.sender) if stored.channel == CHANNEL else None
        if family_chat is None:
            await self._push(stored)
            return
        item = message_item(stored.id, 0, copy_body(copy_of.chat_id, copy_of.message_id))
        await self._outbox.send(family_chat, [item])

    async def _post(self, ticket_id: int, key: str, text: str) -> None:
        """A line from the bot into a ticket's topic, in order with the mirrored messages."""
        await self._outbox.send(self.chat_id, [Outgoing(key, text_body(text))], ticket_id)

    async def _reply(self, update: Update, desk: _Context, text: str) -> None:
        await self._post(desk.ticket_id, f"desk:{update.update_id}", text)

    async def _answer_in_place(self, message: Message, text: str) -> None:
        """A refusal outside any ticket topic: straight back where the command was typed."""
        try:
            await with_retry(self._policy, lambda: message.reply_text(text), "sendMessage")
        except TelegramError as error:
            log.warning("refusal not sent: %s", type(error).__name__)

    async def _answer(self, query: CallbackQuery, text: str) -> None:
        try:
            await with_retry(self._policy, lambda: query.answer(text, show_alert=True), "answerCallbackQuery")
        except TelegramError as error:
            log.warning("answerCallbackQuery failed: %s", type(error).__name__)

    async def _drop_claim_button(self, ticket_id: int) -> None:
        """The summary's "接入" button goes once someone has the family."""
        link = self._topics.link(ticket_id)
        message_id = link.summary_message_id if link else None
        if message_id is None:
            return
        try:
            await with_retry(
                self._policy,
                lambda: self._bot.edit_message_reply_markup(chat_id=self.chat_id, message_id=message_id),
                "editMessageReplyMarkup",
            )
        except TelegramError as error:
            log.warning("claim button of ticket %d stays (%s)", ticket_id, type(error).__name__)
