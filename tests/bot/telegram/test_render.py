"""Splitting long replies, buttons as callback data, what the transcript keeps of media."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.replies import Button, Reply
from bot.telegram import keyboards, texts
from bot.telegram.render import MAX_MESSAGE_UNITS, reply_bodies, split_text
from helpline.db import make_engine, make_session_factory, transaction


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    yield make_session_factory(engine)
    engine.dispose()


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_short_text_is_one_part() -> None:
    assert split_text("您好") == ["您好"]


def test_long_text_splits_on_line_breaks_within_the_limit() -> None:
    lines = [f"第{i}条：特别扶助金每月按时发放到本人账户。" for i in range(400)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert all(_units(part) <= MAX_MESSAGE_UNITS for part in parts)
    assert "\n".join(parts).split("\n") == lines


def test_a_single_overlong_line_is_cut_and_nothing_is_lost() -> None:
    line = "补" * 10_000
    parts = split_text(line)
    assert [len(part) for part in parts] == [4096, 4096, 1808]
    assert "".join(parts) == line


def test_emoji_count_as_two_units_as_telegram_counts_them() -> None:
    parts = split_text("😭" * 3000)
    assert all(_units(part) <= MAX_MESSAGE_UNITS for part in parts)
    assert [len(part) for part in parts] == [2048, 952]


@pytest.mark.parametrize("text", ["", "\n\n", "   "])
def test_blank_text_gives_no_parts(text: str) -> None:
    assert split_text(text) == []


def test_buttons_go_under_the_last_part(sessions: sessionmaker[Session]) -> None:
    reply = Reply("甲\n" * 3000, (Button("有", "有"), Button("没有", "没有")))
    with transaction(sessions) as session:
        bodies = reply_bodies(session, reply)
    assert len(bodies) == 2
    assert "reply_markup" not in bodies[0]
    rows = bodies[1]["reply_markup"]["inline_keyboard"]
    assert [(row[0]["text"], row[0]["callback_data"]) for row in rows] == [("有", "p:有"), ("没有", "p:没有")]


def test_buttons_without_text_still_get_a_message(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        bodies = reply_bodies(session, Reply(buttons=(Button("找人聊聊", "转人工"),)))
    assert bodies[0]["text"] == texts.BUTTONS_ONLY


def test_custom_only_reply_sends_nothing(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        assert reply_bodies(session, Reply(custom={"handoff": {"id": 1}})) == []


def test_long_payload_is_stored_under_a_short_key(sessions: sessionmaker[Session]) -> None:
    payload = '/ask_policy{"topic": "特别扶助金的申请条件和需要准备的材料"}'
    assert len(payload.encode()) > keyboards.MAX_CALLBACK_BYTES
    with transaction(sessions) as session:
        data = keyboards.callback_data(session, payload)
        again = keyboards.callback_data(session, payload)
    assert data == again
    assert len(data.encode()) <= keyboards.MAX_CALLBACK_BYTES
    with transaction(sessions) as session:
        assert keyboards.payload_for(session, data) == payload


@pytest.mark.parametrize("data", ["k:unknown", "claim:5", "garbage", ""])
def test_unknown_callback_data_stands_for_nothing(sessions: sessionmaker[Session], data: str) -> None:
    with transaction(sessions) as session:
        assert keyboards.payload_for(session, data) is None


@pytest.mark.parametrize(("data", "ticket"), [("claim:12", 12), ("claim:x", None), ("p:claim:1", None)])
def test_claim_data(data: str, ticket: int | None) -> None:
    assert keyboards.claimed_ticket_id(data) == ticket
