"""The outbox against the Bot API stand-in: retries, order, and never sending twice."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.error import RetryAfter

from bot.telegram.delivery import Outbox, Outgoing, RetryPolicy, copy_body, text_body, with_retry
from bot.telegram.models import OutboxMessage, OutboxState
from helpline.db import transaction
from tests.bot.telegram.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.anyio

FAMILY = 4242
QUICK = RetryPolicy(attempts=4, base=0.01)


def _rows(sessions: sessionmaker[Session]) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_429_then_502_are_retried_and_the_message_goes_out_once(
    bot: Bot, fake_api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    fake_api.fail_next("sendMessage", 429, retry_after=0.05)
    fake_api.fail_next("sendMessage", 502)
    outbox = Outbox(bot, sessions, QUICK)
    assert await outbox.send(FAMILY, [Outgoing("reply:1", text_body("您好"))])
    assert [sent.text for sent in fake_api.sent_to(FAMILY)] == ["您好"]
    assert len(fake_api.calls("sendMessage")) == 3
    [row] = _rows(sessions)
    assert row.state == OutboxState.SENT.value
    assert row.body is None
    assert row.telegram_message_id == fake_api.sent_to(FAMILY)[0].message_id


async def test_a_sent_key_is_never_sent_again_even_after_a_restart(
    bot: Bot, fake_api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    await Outbox(bot, sessions, QUICK).send(FAMILY, [Outgoing("message:7:0", text_body("一次"))])
    restarted = Outbox(bot, sessions, QUICK)
    restarted.recover()
    assert await restarted.send(FAMILY, [Outgoing("message:7:0", text_body("一次"))])
    await restarted.flush_all()
    assert [sent.text for sent in fake_api.sent_to(FAMILY)] == ["一次"]


async def test_a_long_outage_holds_the_lane_in_order_until_the_next_flush(
    bot: Bot, fake_api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    policy = RetryPolicy(attempts=2, base=0.01)
    fake_api.fail_next("sendMessage", 502, times=2)
    outbox = Outbox(bot, sessions, policy)
    items = [Outgoing("reply:2:0", text_body("第一句")), Outgoing("reply:2:1", text_body("第二句"))]
    assert not await outbox.send(FAMILY, items)
    assert fake_api.sent_to(FAMILY) == []
    assert [row.state for row in _rows(sessions)] == ["pending", "pending"]
    await outbox.flush_all()
    assert [sent.text for sent in fake_api.sent_to(FAMILY)] == ["第一句", "第二句"]


async def test_a_hopeless_message_fails_alone_and_the_lane_goes_on(
    bot: Bot, fake_api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    outbox = Outbox(bot, sessions, QUICK)
    items = [Outgoing("copy:gone", copy_body(FAMILY, 999_999)), Outgoing("reply:3", text_body("还在"))]
    assert await outbox.send(FAMILY, items)
    assert [sent.text for sent in fake_api.sent_to(FAMILY)] == ["还在"]
    failed = _rows(sessions)[0]
    assert (failed.state, failed.last_error) == ("failed", "BadRequest")


async def test_rows_a_crash_left_half_sent_are_sent_after_a_restart(
    bot: Bot, fake_api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    outbox = Outbox(bot, sessions, QUICK)
    with transaction(sessions) as session:
        outbox.enqueue(session, FAMILY, [Outgoing("reply:4", text_body("断电前"))])
        session.flush()
        session.scalars(select(OutboxMessage)).one().state = OutboxState.SENDING.value
    assert outbox.recover() == 1
    await outbox.flush_all()
    assert [sent.text for sent in fake_api.sent_to(FAMILY)] == ["断电前"]


async def test_retry_after_waits_as_long_as_telegram_asks(bot: Bot, fake_api: FakeBotApi) -> None:
    fake_api.fail_next("getMe", 429, retry_after=0.2)
    started = time.monotonic()
    me = await with_retry(QUICK, bot.get_me, "getMe")
    assert me.username == "xicheng_helper_bot"
    assert time.monotonic() - started >= 0.2


async def test_retries_give_up_after_the_configured_attempts(bot: Bot, fake_api: FakeBotApi) -> None:
    before = len(fake_api.calls("getMe"))
    fake_api.fail_next("getMe", 429, retry_after=0.01, times=2)
    with pytest.raises(RetryAfter):
        await with_retry(RetryPolicy(attempts=2, base=0.01), bot.get_me, "getMe")
    assert len(fake_api.calls("getMe")) - before == 2


async def test_a_long_flood_ban_is_not_waited_out_inside_a_handler(
    bot: Bot, fake_api: FakeBotApi, sessions: sessionmaker[Session]
) -> None:
    fake_api.fail_next("sendMessage", 429, retry_after=60)
    outbox = Outbox(bot, sessions, QUICK)
    started = time.monotonic()
    assert not await outbox.send(FAMILY, [Outgoing("reply:5", text_body("稍后"))])
    assert time.monotonic() - started < 5
    await outbox.flush_all()
    assert [sent.text for sent in fake_api.sent_to(FAMILY)] == ["稍后"]
