"""``helpline purge``: conversations past their retention are blanked, recent ones kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, insert, select

from handoff import queue
from handoff.models import Event, Priority, Signal
from helpline import cli
from helpline.db import make_engine, make_session_factory, transaction, utcnow
from helpline.messages import Author, Direction, Message, record
from helpline.rasa_endpoints import tracker_database


def _family_says(session, text: str) -> Message:
    return record(
        session, sender="a", channel="rest", direction=Direction.INBOUND, author=Author.FAMILY, text=text
    )


def test_purge_blanks_old_conversations_and_keeps_recent_ones(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    sessions = make_session_factory(make_engine(database_url))
    long_ago = utcnow() - timedelta(days=400)
    with transaction(sessions) as session:
        _family_says(session, "旧").created_at = long_ago
        _family_says(session, "新")
        quote = Signal(
            sender="a", source="lexicon", level="crisis", category="intent", term="想死", at=long_ago
        )
        quote.sentence = "我想死"
        session.add(quote)
        ticket, _ = queue.open_ticket(
            session, sender="a", channel="rest", priority=Priority.CRISIS, now=long_ago
        )
        session.add(Event(ticket_id=ticket.id, kind="note", actor="wang", text="谈了很久", at=long_ago))
    assert cli.main(["purge"]) == 0
    assert "清空 1 条" in capsys.readouterr().out
    with sessions() as session:
        assert list(session.scalars(select(Message.text).order_by(Message.id))) == ["", "新"]
        signal = session.scalars(select(Signal)).one()
        assert (signal.sentence, signal.term, signal.level) == ("", "", "crisis"), (
            "levels stay for statistics"
        )
        assert "谈了很久" not in list(session.scalars(select(Event.text)))


def test_purge_forgets_rasas_old_conversations_whole(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rasa's trackers hold the families' words too; a conversation quiet past retention goes whole."""
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    tracker_url = tracker_database(database_url)
    assert tracker_url is not None
    engine = make_engine(tracker_url.render_as_string(hide_password=False))
    events = Table(
        "events",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255)),
        Column("timestamp", Float),
        Column("data", Text),
    )  # the columns of Rasa's SQLTrackerStore this test needs
    events.create(engine)
    old = (utcnow() - timedelta(days=400)).timestamp()
    recent = utcnow().timestamp()
    with engine.begin() as connection:
        connection.execute(
            insert(events),
            [
                {"sender_id": "quiet", "timestamp": old, "data": "我想死"},
                {"sender_id": "quiet", "timestamp": old + 60, "data": "谢谢"},
                {"sender_id": "back", "timestamp": old, "data": "去年的话"},
                {"sender_id": "back", "timestamp": recent, "data": "今天又来了"},
            ],
        )
    assert cli.main(["purge"]) == 0
    assert "1 段旧对话" in capsys.readouterr().out
    with engine.connect() as connection:
        kept = list(connection.scalars(select(events.c.data).order_by(events.c.id)))
    engine.dispose()
    assert kept == ["去年的话", "今天又来了"]
