"""``helpline handoff list`` on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from handoff import queue
from handoff.models import Priority
from helpline.cli import main
from helpline.db import transaction, utcnow


def test_list_prints_the_queue_in_order(
    sessions: sessionmaker[Session], database_url: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    assert main(["handoff", "list"]) == 0
    assert capsys.readouterr().out.strip() == "没有工单。"
    with transaction(sessions) as session:
        for sender, priority in [("asked", Priority.REQUESTED), ("at-risk", Priority.CRISIS)]:
            queue.open_ticket(session, sender=sender, channel="rest", priority=priority, now=utcnow())
    assert main(["handoff", "list", "--status", "waiting"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()[1:]]
    assert [(row[1], row[2], row[4]) for row in rows] == [
        ("1", "crisis", "at-risk"),
        ("2", "requested", "asked"),
    ]
