"""The running gateway with its Telegram channel, as the channel tests drive it.

``running`` starts the real gateway (``create_app``) with python-telegram-bot
pointed at the Bot API stand-in; :class:`Running` reads what reached Telegram and
what the database holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.telegram.models import OutboxMessage, OutboxState, ProcessedUpdate, UpdateState
from handoff.models import Ticket
from helpline.messages import Message
from helpline.settings import Settings
from tests.bot.telegram.fake_bot_api import FakeBotApi
from tests.conftest import without_rasa

GROUP = -1001234567
COUNSELOR_A = 7001
COUNSELOR_B = 7002
STRANGER = 7666
FAMILY = 5001
CRISIS_WORDS = "我不想活了"


def channel_settings(database_url: str, api: FakeBotApi, **changes: object) -> Settings:
    return without_rasa(
        database_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
        telegram_counselor_chat_id=GROUP,
        telegram_counselor_ids=(COUNSELOR_A, COUNSELOR_B),
        telegram_retry_base=0.01,
        telegram_retry_attempts=4,
        handoff_watch_seconds=0.2,
        **changes,
    )


@dataclass
class Running:
    api: FakeBotApi
    client: TestClient
    app: FastAPI

    def texts_to(self, chat_id: int, thread_id: int | None = None) -> list[str | None]:
        return [sent.text for sent in self.api.sent_to(chat_id, thread_id)]

    def wait_texts(self, chat_id: int, count: int, thread_id: int | None = None) -> list[str | None]:
        """The first ``count`` texts sent to a chat, once there are that many and all is sent."""
        self.api.wait_for(lambda: len(self.api.sent_to(chat_id, thread_id)) >= count)
        self.settle()
        return self.texts_to(chat_id, thread_id)

    def settle(self) -> None:
        """Every update handled and every queued message sent (or given up on)."""

        def quiet() -> bool:
            with self.app.state.sessions() as session:
                busy_updates = session.scalar(
                    select(ProcessedUpdate.update_id).where(ProcessedUpdate.state != UpdateState.DONE.value)
                )
                busy_outbox = session.scalar(
                    select(OutboxMessage.id).where(
                        OutboxMessage.state.in_([OutboxState.PENDING.value, OutboxState.SENDING.value])
                    )
                )
            return self.api.pending_updates() == 0 and busy_updates is None and busy_outbox is None

        self.api.wait_for(quiet)

    def maintain(self) -> None:
        self.client.portal.call(self.app.state.telegram.maintain_once)

    def stored(self, sender: str) -> list[Message]:
        with self.app.state.sessions() as session:
            return list(session.scalars(select(Message).where(Message.sender == sender).order_by(Message.id)))

    def tickets(self) -> list[Ticket]:
        with self.app.state.sessions() as session:
            return list(session.scalars(select(Ticket).order_by(Ticket.id)))

    def topic(self) -> tuple[int, dict[str, object]]:
        """The (only) live forum topic of the counselors' group."""
        live = self.api.wait_for(
            lambda: {t: v for t, v in self.api.topics(GROUP).items() if not v["deleted"]}
        )
        assert len(live) == 1
        return next(iter(live.items()))

    def answers(self) -> list[str | None]:
        return [call.params.get("text") for call in self.api.calls("answerCallbackQuery")]


@contextmanager
def running(settings: Settings, api: FakeBotApi) -> Iterator[Running]:
    with TestClient(create_app(settings)) as client:
        if settings.telegram_mode == "polling":
            api.wait_for(lambda: api.calls("getUpdates"))
        yield Running(api, client, client.app)
