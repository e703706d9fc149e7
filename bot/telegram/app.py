"""The Telegram channel's python-telegram-bot Application: the one place where handlers are wired.

:func:`build` returns a :class:`TelegramChannel` (or None when no bot token is
set, so the rest of the assistant runs without Telegram). The gateway starts and
stops it in its lifespan; in webhook mode the gateway's route hands updates to
:meth:`TelegramChannel.accept`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.delivery import Delivery
from bot.rasa_client import RasaClient
from bot.router import Router
from bot.telegram import keyboards
from bot.telegram.counselors import CounselorDesk, Topics, unknown_group
from bot.telegram.delivery import Outbox, RetryPolicy, TelegramDeliverer, with_retry
from bot.telegram.family import FamilyChat
from bot.telegram.senders import CHANNEL
from bot.telegram.updates import Inbox, OnceInOrderProcessor, replay
from handoff.notify import Notifier
from helpline.settings import Settings

log = logging.getLogger(__name__)

POLLING = "polling"
WEBHOOK = "webhook"
WEBHOOK_PATH = "/telegram/webhook"
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAINTENANCE_SECONDS = 5.0
FAMILY_COMMANDS = [
    BotCommand("start", "我能帮您做什么"),
    BotCommand("human", "找工作人员说话"),
    BotCommand("help", "怎么用"),
    BotCommand("cancel", "停下正在办的事"),
]


@dataclass(frozen=True)
class Gateway:
    """What the channel needs from the gateway: its router, stores and hand-off hooks."""

    sessions: sessionmaker[Session]
    router: Router
    rasa: RasaClient
    delivery: Delivery
    notifiers: list[Notifier]


class TelegramChannel:
    """The running channel: PTB's application, the outbox, the desk and a maintenance loop."""

    def __init__(
        self,
        application: Application,
        inbox: Inbox,
        outbox: Outbox,
        desk: CounselorDesk | None,
        settings: Settings,
        maintenance_seconds: float,
    ) -> None:
        self.application = application
        self.desk = desk
        self._inbox = inbox
        self._outbox = outbox
        self._settings = settings
        self._maintenance_seconds = maintenance_seconds
        self._policy = RetryPolicy.from_settings(settings)
        self._task: asyncio.Task[None] | None = None

    @property
    def mode(self) -> str:
        return self._settings.telegram_mode

    @property
    def webhook_secret(self) -> str:
        return self._settings.telegram_webhook_secret

    async def start(self) -> None:
        """Begin connecting in the background: the gateway serves the web channel meanwhile,
        and an unreachable Telegram at boot is retried instead of failing the whole gateway."""
        self._task = asyncio.create_task(self._run(), name="telegram-channel")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _run(self) -> None:
        await self._connect()
        log.info("telegram channel started (%s) as @%s", self.mode, self.application.bot.username)
        while True:
            await asyncio.sleep(self._maintenance_seconds)
            try:
                await self.maintain_once()
            except Exception:
                log.exception("telegram maintenance pass failed; trying again at the next one")

    async def _connect(self) -> None:
        """getMe until it works, then recover what a crash left, start receiving, replay."""
        attempt = 0
        while True:
            try:
                await self.application.initialize()
                break
            except TelegramError as error:
                pause = min(self._policy.cap, self._policy.base * 2**attempt)
                log.error("telegram not reachable (%s); trying again in %.1fs", type(error).__name__, pause)
                attempt += 1
                await asyncio.sleep(pause)
        recovered = self._outbox.recover()
        if recovered:
            log.warning("%d outgoing telegram messages were mid-send at the last stop; resending", recovered)
        await self._set_commands()
        if self.mode == WEBHOOK:
            await with_retry(
                self._policy,
                lambda: self.application.bot.set_webhook(
                    self._settings.telegram_webhook_url,
                    secret_token=self.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                ),
                "setWebhook",
            )
        await self.application.start()
        if self.mode == POLLING:
            await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        for update in replay(self._inbox, self.application.bot):
            await self.application.update_queue.put(update)

    async def accept(self, body: dict[str, Any]) -> None:
        """A webhook delivery: recorded before Telegram gets its 200, then queued for handling."""
        update = Update.de_json(body, self.application.bot)
        if self._inbox.accept(update.update_id, body):
            await self.application.update_queue.put(update)

    async def maintain_once(self) -> None:
        """Resend what an outage held back, bring the counselors' group in step, forget old ids."""
        await self._outbox.flush_all()
        if self.desk is not None:
            await self.desk.sync()
        self._inbox.prune()

    async def _set_commands(self) -> None:
        """The menu families see; a failure here only costs the menu."""
        try:
            await with_retry(
                self._policy,
                lambda: self.application.bot.set_my_commands(
                    FAMILY_COMMANDS, scope=BotCommandScopeAllPrivateChats()
                ),
                "setMyCommands",
            )
        except TelegramError as error:
            log.warning("bot commands not set: %s", type(error).__name__)


def build(
    settings: Settings, gateway: Gateway, maintenance_seconds: float = MAINTENANCE_SECONDS
) -> TelegramChannel | None:
    """The channel, or None without a token. Registers the deliverer and the counselors' notifier."""
    if not settings.telegram_bot_token:
        return None
    if settings.telegram_mode not in (POLLING, WEBHOOK):
        raise ValueError(f"TELEGRAM_MODE must be {POLLING} or {WEBHOOK}, not {settings.telegram_mode!r}")
    if settings.telegram_mode == WEBHOOK and not (
        settings.telegram_webhook_url and settings.telegram_webhook_secret
    ):
        raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET")
    inbox = Inbox(gateway.sessions)
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{settings.telegram_api_base_url}/bot")
        .base_file_url(f"{settings.telegram_api_base_url}/file/bot")
        .concurrent_updates(OnceInOrderProcessor(inbox))
    )
    if settings.telegram_mode == WEBHOOK:
        builder = builder.updater(None)
    application = builder.build()
    bot = application.bot
    policy = RetryPolicy.from_settings(settings)
    desk: CounselorDesk | None = None
    topics: Topics | None = None
    if settings.telegram_counselor_chat_id:
        topics = Topics(bot, gateway.sessions, policy, settings.telegram_counselor_chat_id)
    outbox = Outbox(bot, gateway.sessions, policy, topics)
    if topics is not None:
        desk = CounselorDesk(
            bot,
            gateway.sessions,
            outbox,
            topics,
            policy,
            settings.telegram_counselor_ids,
            gateway.delivery.push,
        )
        gateway.notifiers.append(desk)
    family = FamilyChat(gateway.router, gateway.sessions, outbox, gateway.rasa, policy, desk)
    gateway.delivery.register(CHANNEL, TelegramDeliverer(gateway.sessions, outbox))
    _wire_family(application, family)
    if desk is not None:
        _wire_counselors(application, desk)
    others = filters.ChatType.GROUPS & ~filters.Chat(settings.telegram_counselor_chat_id or [])
    application.add_handler(MessageHandler(others, unknown_group))
    application.add_error_handler(_log_error)
    return TelegramChannel(application, inbox, outbox, desk, settings, maintenance_seconds)


def _wire_family(application: Application, family: FamilyChat) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", family.start, filters=private))
    application.add_handler(CommandHandler("help", family.help, filters=private))
    application.add_handler(CommandHandler("human", family.human, filters=private))
    application.add_handler(CommandHandler("cancel", family.cancel, filters=private))
    application.add_handler(MessageHandler(private & filters.COMMAND, family.help))
    application.add_handler(MessageHandler(private & filters.TEXT, family.text))
    application.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, family.media))
    application.add_handler(CallbackQueryHandler(family.button, pattern=keyboards.FAMILY_PATTERN))


def _wire_counselors(application: Application, desk: CounselorDesk) -> None:
    group = filters.Chat(desk.chat_id)
    application.add_handler(CommandHandler("note", desk.note, filters=group))
    application.add_handler(CommandHandler("transfer", desk.transfer, filters=group))
    application.add_handler(CommandHandler("close", desk.close, filters=group))
    topic_talk = group & filters.IS_TOPIC_MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    application.add_handler(MessageHandler(topic_talk, desk.topic_message))
    application.add_handler(CallbackQueryHandler(desk.claim, pattern=keyboards.CLAIM_PATTERN))


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handler errors are logged by update id and type only: never the family's words."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "telegram update %s failed: %s",
        update_id,
        type(context.error).__name__,
        exc_info=context.error,
    )
