"""The whole gateway with its Telegram channel, against the local Bot API stand-in.

The gateway is the real one (``create_app``: router, hand-off gate, watch loop,
delivery registry); python-telegram-bot runs unpatched and polls the stand-in
over HTTP. Rasa is a closed local port, so these tests cover what must work
without it: commands, buttons, media, the crisis path and the counselors' side.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.app import create_app
from bot.telegram import texts
from bot.telegram.models import OutboxMessage, OutboxState, ProcessedUpdate, UpdateState
from bot.telegram.senders import sender_for
from handoff import texts as handoff_texts
from handoff.models import Event
from helpline.db import make_engine, make_session_factory, transaction
from helpline.messages import Author, Direction, record
from helpline.settings import load_settings
from tests.bot.telegram.fake_bot_api import FakeBotApi, Sent
from tests.bot.telegram.harness import (
    COUNSELOR_A,
    COUNSELOR_B,
    CRISIS_WORDS,
    FAMILY,
    GROUP,
    STRANGER,
    Running,
    channel_settings,
    running,
)
from tests.conftest import free_port


@pytest.fixture
def gateway(database_url: str, fake_api: FakeBotApi) -> Iterator[Running]:
    """On SQLite and on PostgreSQL: for claims, retries and anything that races."""
    with running(channel_settings(database_url, fake_api), fake_api) as started:
        yield started


@pytest.fixture
def lite_gateway(sqlite_url: str, fake_api: FakeBotApi) -> Iterator[Running]:
    """On SQLite only: for what the database engine cannot change."""
    with running(channel_settings(sqlite_url, fake_api), fake_api) as started:
        yield started


def _last_with_buttons(sent: list[Sent]) -> Sent:
    return next(s for s in reversed(sent) if s.reply_markup)


def _summary(gateway: Running, thread_id: int) -> Sent:
    return gateway.api.wait_for(lambda: gateway.api.sent_to(GROUP, thread_id))[0]


# --- families ---------------------------------------------------------------------------


def test_a_family_conversation_with_commands_and_buttons(gateway: Running) -> None:
    api = gateway.api
    api.family_command(FAMILY, "/start")
    start, lines = gateway.wait_texts(FAMILY, 2)
    assert start == texts.START
    assert lines.startswith(texts.CRISIS_LINES_TITLE) and "010-82951332" in lines

    api.family_says(FAMILY, "活着太累了")
    question, lines = gateway.wait_texts(FAMILY, 4)[-2:]
    assert question == handoff_texts.SAFETY_QUESTION
    assert lines.startswith(handoff_texts.SAFETY_LINES_INTRO)
    asked = _last_with_buttons(api.sent_to(FAMILY))
    titles = [title for title, _ in asked.buttons()]
    assert titles == [handoff_texts.ANSWER_YES, handoff_texts.ANSWER_NO, handoff_texts.TALK_TO_SOMEONE]

    api.press(FAMILY, FAMILY, asked, dict((title, data) for title, data in asked.buttons())["没有"])
    assert gateway.wait_texts(FAMILY, 4)[-1] == handoff_texts.SAFETY_ANSWER_NO
    assert len(api.calls("answerCallbackQuery")) == 1

    api.family_command(FAMILY, "/help")
    assert gateway.wait_texts(FAMILY, 5)[-1] == texts.HELP
    api.family_command(FAMILY, "/cancel")
    assert gateway.wait_texts(FAMILY, 6)[-1] == texts.CANCELLED

    stored = [(m.direction, m.text) for m in gateway.stored(sender_for(FAMILY))]
    assert ("in", "没有") in stored and ("in", "/start") in stored
    assert ("out", handoff_texts.SAFETY_ANSWER_NO) in stored
    assert gateway.tickets() == []


def test_media_gets_a_kind_request_to_type(lite_gateway: Running) -> None:
    kinds = ["photo", "sticker", "location"]
    for count, kind in enumerate(kinds, start=1):
        lite_gateway.api.family_sends(FAMILY, kind)
        lite_gateway.wait_texts(FAMILY, count)
    assert lite_gateway.texts_to(FAMILY) == [texts.NOT_TEXT] * 3
    stored = [m.text for m in lite_gateway.stored(sender_for(FAMILY)) if m.direction == "in"]
    assert stored == [texts.STORED_KIND[kind] for kind in kinds]


def test_voice_offers_a_person_and_the_button_asks_for_one(lite_gateway: Running) -> None:
    gateway = lite_gateway
    api = gateway.api
    api.family_sends(FAMILY, "voice")
    assert gateway.wait_texts(FAMILY, 1) == [texts.VOICE]
    offer = _last_with_buttons(api.sent_to(FAMILY))
    [(title, data)] = offer.buttons()
    assert title == texts.HUMAN_BUTTON
    api.press(FAMILY, FAMILY, offer, data)
    assert handoff_texts.QUEUED.split("，")[0] in gateway.wait_texts(FAMILY, 2)[-1]
    [ticket] = gateway.tickets()
    assert (ticket.sender, ticket.channel, ticket.priority) == (sender_for(FAMILY), "telegram", "requested")
    _, topic = gateway.topic()
    assert topic["name"] == f"{texts.PRIORITY_LABELS['requested']} #{ticket.id}"


def test_a_long_message_to_a_family_is_split_at_the_limit(lite_gateway: Running) -> None:
    gateway = lite_gateway
    long_text = "\n".join(f"第{i}条：特别扶助金按月发放，请留意银行短信。" for i in range(300))
    with transaction(gateway.app.state.sessions) as session:
        message = record(
            session,
            sender=sender_for(FAMILY),
            channel="telegram",
            direction=Direction.OUTBOUND,
            author=Author.COUNSELOR,
            text=long_text,
        )
    assert gateway.client.portal.call(gateway.app.state.delivery.push, message)
    parts = gateway.wait_texts(FAMILY, 2)
    assert len(parts) == 2 and all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == long_text
    assert gateway.client.portal.call(gateway.app.state.delivery.push, message)
    gateway.settle()
    assert len(gateway.texts_to(FAMILY)) == 2


# --- the crisis path and the counselors -------------------------------------------------


def test_a_crisis_reaches_the_counselors_and_their_reply_reaches_the_family(gateway: Running) -> None:
    api = gateway.api
    api.family_says(FAMILY, CRISIS_WORDS)
    replies = gateway.wait_texts(FAMILY, 3)
    assert replies[0] == handoff_texts.CRISIS_WARM and "010-82951332" in replies[1]

    thread_id, topic = gateway.topic()
    [ticket] = gateway.tickets()
    assert topic["name"] == f"🔴危机 #{ticket.id}"
    assert str(FAMILY) not in str(topic["name"])
    summary = _summary(gateway, thread_id)
    assert CRISIS_WORDS in summary.text and "危机" in summary.text
    assert summary.buttons() == [(texts.CLAIM_BUTTON, f"claim:{ticket.id}")]
    pinned = api.wait_for(lambda: api.pinned(GROUP))
    assert f"#{ticket.id}" in pinned.text

    api.press(GROUP, STRANGER, summary, f"claim:{ticket.id}")
    api.wait_for(lambda: texts.NOT_ALLOWED in gateway.answers())
    api.press(GROUP, COUNSELOR_A, summary, f"claim:{ticket.id}")
    assert gateway.wait_texts(FAMILY, 4)[-1] == handoff_texts.CLAIMED
    assert texts.CLAIMED_BY_YOU in gateway.answers()
    api.wait_for(lambda: not api.sent_to(GROUP, thread_id)[0].reply_markup)
    api.wait_for(lambda: f"tg:{COUNSELOR_A}" in api.pinned(GROUP).text)

    api.counselor_says(GROUP, thread_id, COUNSELOR_A, "您好，我是值班的心理咨询师，我在这儿陪您。")
    [copied] = api.wait_for(lambda: [s for s in api.sent_to(FAMILY) if s.copy_of])
    assert copied.copy_of[0] == GROUP and copied.text == "您好，我是值班的心理咨询师，我在这儿陪您。"
    api.counselor_says(GROUP, thread_id, STRANGER, "路人的话")
    api.family_says(FAMILY, "谢谢你")
    api.wait_for(lambda: any("谢谢你" in (t or "") for t in gateway.texts_to(GROUP, thread_id)))
    api.counselor_says(GROUP, thread_id, COUNSELOR_A, "/note 情绪稳定一些，明早回访")
    api.wait_for(lambda: texts.NOTE_SAVED in gateway.texts_to(GROUP, thread_id))
    gateway.settle()
    family_texts = gateway.texts_to(FAMILY)
    assert "路人的话" not in family_texts and not any("回访" in (t or "") for t in family_texts)
    assert family_texts.count("您好，我是值班的心理咨询师，我在这儿陪您。") == 1

    api.counselor_says(GROUP, thread_id, COUNSELOR_A, "/close 已稳定")
    api.wait_for(lambda: handoff_texts.CLOSED in gateway.texts_to(FAMILY))
    api.wait_for(lambda: api.topics(GROUP)[thread_id]["closed"])
    api.wait_for(lambda: api.pinned(GROUP).text == texts.QUEUE_EMPTY)
    assert api.topics(GROUP)[thread_id]["name"] == f"{texts.CLOSED_MARK} #{ticket.id}"
    with gateway.app.state.sessions() as session:
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.ticket_id == ticket.id))]
    assert kinds[0] == "opened" and {"claimed", "note", "closed"} <= set(kinds)
    counselor_words = [m for m in gateway.stored(sender_for(FAMILY)) if m.author == "counselor"]
    assert [m.text for m in counselor_words] == ["您好，我是值班的心理咨询师，我在这儿陪您。"]


def test_two_counselors_pressing_at_once_have_one_winner(gateway: Running) -> None:
    api = gateway.api
    api.family_says(FAMILY, CRISIS_WORDS)
    thread_id, _ = gateway.topic()
    summary = _summary(gateway, thread_id)
    [ticket] = gateway.tickets()
    api.press(GROUP, COUNSELOR_A, summary, f"claim:{ticket.id}")
    api.press(GROUP, COUNSELOR_B, summary, f"claim:{ticket.id}")
    api.wait_for(lambda: len(api.calls("answerCallbackQuery")) == 2)
    gateway.settle()
    assert sorted(gateway.answers()) == sorted([texts.CLAIMED_BY_YOU, texts.CLAIMED_BY_OTHER])
    [claimed] = gateway.tickets()
    assert claimed.claimed_by in (f"tg:{COUNSELOR_A}", f"tg:{COUNSELOR_B}")
    assert gateway.texts_to(FAMILY).count(handoff_texts.CLAIMED) == 1
    with gateway.app.state.sessions() as session:
        claims = session.scalars(select(Event).where(Event.kind == "claimed")).all()
    assert len(claims) == 1


def test_telegram_429_and_502_mid_conversation_lose_nothing_and_send_nothing_twice(gateway: Running) -> None:
    api = gateway.api
    api.fail_next("sendMessage", 429, retry_after=0.05)
    api.fail_next("sendMessage", 502)
    api.family_command(FAMILY, "/start")
    assert gateway.wait_texts(FAMILY, 2)[0] == texts.START

    api.fail_next("sendMessage", 502, times=2)
    api.fail_next("answerCallbackQuery", 429, retry_after=0.05)
    api.family_says(FAMILY, CRISIS_WORDS)
    crisis = gateway.wait_texts(FAMILY, 5)[2:]
    assert crisis[0] == handoff_texts.CRISIS_WARM
    thread_id, _ = gateway.topic()
    summary = _summary(gateway, thread_id)
    [ticket] = gateway.tickets()

    api.fail_next("sendMessage", 429, retry_after=0.05)
    api.press(GROUP, COUNSELOR_A, summary, f"claim:{ticket.id}")
    gateway.wait_texts(FAMILY, 6)
    api.fail_next("copyMessage", 502)
    api.fail_next("copyMessage", 429, retry_after=0.05)
    api.counselor_says(GROUP, thread_id, COUNSELOR_A, "我在，您慢慢说。")
    api.wait_for(lambda: [s for s in api.sent_to(FAMILY) if s.copy_of])
    gateway.settle()

    family_texts = gateway.texts_to(FAMILY)
    assert len(family_texts) == len(set(family_texts)) == 7
    assert family_texts[-1] == "我在，您慢慢说。"
    with gateway.app.state.sessions() as session:
        states = session.scalars(select(OutboxMessage.state)).all()
    assert set(states) == {OutboxState.SENT.value}


def test_an_outage_longer_than_the_retries_is_sent_by_the_next_maintenance_pass(
    lite_gateway: Running,
) -> None:
    gateway = lite_gateway
    api = gateway.api
    api.fail_next("sendMessage", 502, times=4)
    api.family_command(FAMILY, "/help")
    api.wait_for(lambda: len(api.calls("sendMessage")) >= 4)
    assert gateway.texts_to(FAMILY) == []
    gateway.maintain()
    assert gateway.wait_texts(FAMILY, 1) == [texts.HELP]


def test_a_deleted_topic_is_made_again_with_the_history(gateway: Running) -> None:
    api = gateway.api
    api.family_says(FAMILY, CRISIS_WORDS)
    old_thread, topic = gateway.topic()
    _summary(gateway, old_thread)
    gateway.settle()
    api.delete_topic(GROUP, old_thread)
    api.family_says(FAMILY, "还是很难受")
    new_thread, new_topic = gateway.topic()
    assert new_thread != old_thread and new_topic["name"] == topic["name"]
    posts = api.wait_for(
        lambda: len(api.sent_to(GROUP, new_thread)) >= 2 and gateway.texts_to(GROUP, new_thread)
    )
    assert posts[0].startswith(texts.TOPIC_RECREATED) and CRISIS_WORDS in posts[0]
    assert any("还是很难受" in post for post in posts)
    [ticket] = gateway.tickets()
    assert ticket.status == "waiting"
    assert _summary(gateway, new_thread).buttons() == [(texts.CLAIM_BUTTON, f"claim:{ticket.id}")]


# --- exactly once across restarts, webhook mode, no token -------------------------------


def test_an_update_seen_before_a_restart_is_not_handled_again(
    database_url: str, fake_api: FakeBotApi
) -> None:
    settings = channel_settings(database_url, fake_api)
    with running(settings, fake_api) as first:
        update_id = fake_api.family_command(FAMILY, "/help")
        first.wait_texts(FAMILY, 1)
    fake_api.redeliver(update_id)
    with running(settings, fake_api) as second:
        fake_api.family_command(FAMILY, "/start")
        second.wait_texts(FAMILY, 3)
    assert fake_api.sent_to(FAMILY)[0].text == texts.HELP
    assert [s.text for s in fake_api.sent_to(FAMILY)].count(texts.HELP) == 1


def test_an_update_a_crash_interrupted_is_replayed_at_start(database_url: str, fake_api: FakeBotApi) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    body = {
        "update_id": 42,
        "message": {
            "message_id": 9,
            "date": 0,
            "chat": {"id": FAMILY, "type": "private"},
            "from": {"id": FAMILY, "is_bot": False, "first_name": "u"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    with transaction(sessions) as session:
        session.add(ProcessedUpdate(update_id=42, state=UpdateState.PROCESSING.value, body=body))
    engine.dispose()
    with running(channel_settings(database_url, fake_api), fake_api) as started:
        assert started.wait_texts(FAMILY, 1) == [texts.HELP]


def test_webhook_mode_checks_the_secret_and_handles_each_update_once(
    sqlite_url: str, fake_api: FakeBotApi
) -> None:
    settings = channel_settings(
        sqlite_url,
        fake_api,
        telegram_mode="webhook",
        telegram_webhook_url="https://helpline.example/telegram/webhook",
        telegram_webhook_secret="s3cret-token",
    )
    update = {
        "update_id": 77,
        "message": {
            "message_id": 3,
            "date": 0,
            "chat": {"id": FAMILY, "type": "private"},
            "from": {"id": FAMILY, "is_bot": False, "first_name": "u"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    with running(settings, fake_api) as started:
        fake_api.wait_for(lambda: fake_api.calls("setWebhook"))
        assert fake_api.calls("setWebhook")[0].params["secret_token"] == "s3cret-token"
        assert not fake_api.calls("getUpdates")
        post = started.client.post
        assert post("/telegram/webhook", json=update).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
        assert post("/telegram/webhook", json=update, headers=wrong).status_code == 403
        right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
        assert post("/telegram/webhook", content=b"{not json", headers=right).status_code == 400
        assert post("/telegram/webhook", json=[1], headers=right).status_code == 400
        assert post("/telegram/webhook", json=update, headers=right).status_code == 200
        assert post("/telegram/webhook", json=update, headers=right).status_code == 200
        assert started.wait_texts(FAMILY, 1) == [texts.HELP]
        assert started.texts_to(FAMILY) == [texts.HELP]


def test_without_a_token_nothing_telegram_starts_and_the_rest_runs(sqlite_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = replace(load_settings(), database_url=sqlite_url, rasa_url=closed, telegram_bot_token="")
    with TestClient(create_app(settings)) as client:
        assert client.app.state.telegram is None
        assert client.post("/telegram/webhook", json={"update_id": 1}).status_code == 404
        reply = client.post("/webhooks/rest/webhook", json={"sender": "web1", "message": CRISIS_WORDS})
        assert reply.status_code == 200 and "010-82951332" in reply.text


def test_desk_commands_refuse_kindly_and_transfer_hands_the_family_over(lite_gateway: Running) -> None:
    gateway = lite_gateway
    api = gateway.api
    api.family_says(FAMILY, CRISIS_WORDS)
    thread_id, _ = gateway.topic()
    [ticket] = gateway.tickets()
    api.counselor_says(GROUP, thread_id, COUNSELOR_A, "我先回一句")
    api.wait_for(lambda: texts.NOT_CLAIMED in gateway.texts_to(GROUP, thread_id))
    api.press(GROUP, COUNSELOR_A, _summary(gateway, thread_id), f"claim:{ticket.id}")
    api.wait_for(lambda: texts.CLAIMED_BY_YOU in gateway.answers())

    refusals = [
        (COUNSELOR_B, "/close", texts.NOT_YOURS.format(counselor=f"tg:{COUNSELOR_A}")),
        (COUNSELOR_A, "/note", texts.NOTE_USAGE),
        (COUNSELOR_A, f"/transfer {STRANGER}", texts.TRANSFER_UNKNOWN),
        (COUNSELOR_A, f"/transfer {COUNSELOR_B}", texts.TRANSFERRED.format(counselor=f"tg:{COUNSELOR_B}")),
    ]
    for user, command, answer in refusals:
        api.counselor_says(GROUP, thread_id, user, command)
        api.wait_for(lambda answer=answer: answer in gateway.texts_to(GROUP, thread_id))
    api.counselor_says(GROUP, None, COUNSELOR_A, "/close")
    api.wait_for(lambda: texts.NOT_A_TICKET_TOPIC in gateway.texts_to(GROUP))
    api.counselor_says(GROUP, thread_id, STRANGER, "/close")
    api.wait_for(lambda: texts.NOT_ALLOWED in gateway.texts_to(GROUP))

    api.wait_for(lambda: handoff_texts.TRANSFERRED in gateway.texts_to(FAMILY))
    api.counselor_says(GROUP, thread_id, COUNSELOR_B, "我是接手的同事。")
    api.wait_for(lambda: "我是接手的同事。" in gateway.texts_to(FAMILY))
    gateway.settle()
    [handed_over] = gateway.tickets()
    assert (handed_over.status, handed_over.claimed_by) == ("active", f"tg:{COUNSELOR_B}")
    assert "我先回一句" not in gateway.texts_to(FAMILY)


def test_an_unreachable_telegram_at_start_does_not_stop_the_gateway(sqlite_url: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = replace(
        load_settings(),
        database_url=sqlite_url,
        rasa_url=closed,
        telegram_bot_token="123:unreachable",
        telegram_api_base_url=closed,
        telegram_retry_base=0.01,
    )
    with TestClient(create_app(settings)) as client:
        assert client.app.state.telegram is not None
        reply = client.post("/webhooks/rest/webhook", json={"sender": "web2", "message": CRISIS_WORDS})
        assert reply.status_code == 200 and "010-82951332" in reply.text


def test_check_ins_while_waiting_are_pushed_to_the_family(sqlite_url: str, fake_api: FakeBotApi) -> None:
    settings = channel_settings(sqlite_url, fake_api, handoff_checkin_seconds=0.3)
    with running(settings, fake_api) as gateway:
        fake_api.family_command(FAMILY, "/human")
        fake_api.wait_for(
            lambda: any(handoff_texts.CHECKIN.split("，")[0] in (t or "") for t in gateway.texts_to(FAMILY))
        )
        [ticket] = gateway.tickets()
        assert ticket.checkins >= 1
        stored = {m.text for m in gateway.stored(sender_for(FAMILY)) if m.direction == "out"}
        assert set(gateway.texts_to(FAMILY)) <= stored
