"""What counselors read in the group: topic names, the pinned queue, summaries."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.telegram import texts
from bot.telegram.counselors import QUEUE_ROWS, queue_text, summary_text, topic_name
from bot.telegram.render import MAX_MESSAGE_UNITS
from handoff.models import Ticket
from handoff.summary import Summary
from helpline.messages import Message

OPENED = datetime(2026, 11, 29, 2, 5, tzinfo=UTC)


def _ticket(number: int, priority: str = "crisis", status: str = "waiting", by: str | None = None) -> Ticket:
    return Ticket(
        id=number,
        sender="tg-5001",
        channel="telegram",
        priority=priority,
        status=status,
        claimed_by=by,
        opened_at=OPENED,
    )


def test_topic_names_carry_priority_and_number_only() -> None:
    assert topic_name(_ticket(12)) == "🔴危机 #12"
    assert topic_name(_ticket(3, "requested")) == "🔵求助 #3"
    assert topic_name(_ticket(3, status="closed")) == f"{texts.CLOSED_MARK} #3"


def test_the_queue_lists_waiting_then_served_in_beijing_time() -> None:
    text = queue_text([_ticket(2)], [_ticket(1, "distress", "active", "tg:7001")])
    assert text.splitlines() == [
        texts.QUEUE_TITLE.format(count=2),
        "🔴危机 #2 · 等待中 · 11-29 10:05",
        "🟡情绪 #1 · tg:7001 接待中 · 11-29 10:05",
    ]
    assert queue_text([], []) == texts.QUEUE_EMPTY


def test_a_long_queue_stays_within_one_message() -> None:
    text = queue_text([_ticket(n) for n in range(500)], [])
    assert len(text) <= MAX_MESSAGE_UNITS
    assert text.splitlines()[-1] == texts.QUEUE_MORE.format(count=500 - QUEUE_ROWS)


def test_the_summary_names_risks_and_shows_the_latest_messages() -> None:
    messages = [
        Message(id=n, sender="tg-5001", author="family", direction="in", text=f"第{n}句", created_at=OPENED)
        for n in range(40)
    ]
    risks = [{"level": "crisis", "category": "suicidal_ideation", "term": "不想活", "sentence": "第39句"}]
    text = summary_text(_ticket(7), messages, Summary([], risks, "crisis"), recreated=True)
    lines = text.splitlines()
    assert lines[0] == texts.TOPIC_RECREATED
    assert lines[1].startswith("🔴危机 #7 · 等待中 · 来自 Telegram")
    assert lines[2] == f"{texts.SUMMARY_RISKS}危机·suicidal_ideation「不想活」"
    assert lines[-1] == "家属 11-29 10:05：第39句" and "第9句" not in text
