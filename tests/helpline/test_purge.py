"""``helpline purge``: conversations past their retention are blanked, recent ones kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handoff import queue
from handoff.models import Event, Priority, Signal
from helpline import cli
from helpline.db import make_engine, make_session_factory, transaction, utcnow
from helpline.messages import Author, Direction, Message, record


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
