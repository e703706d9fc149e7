"""The queue on real SQLite and PostgreSQL: order, positions, escalation, races, closing."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff import duty, notify, queue, texts
from handoff.models import Conversation, Event, Notification, Priority, Status, Ticket
from helpline.db import make_engine, make_session_factory, transaction, utcnow
from helpline.messages import Message

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=utcnow().tzinfo)


def _open(sessions: sessionmaker[Session], sender: str, priority: Priority, at: datetime) -> int:
    with transaction(sessions) as session:
        ticket, _ = queue.open_ticket(session, sender=sender, channel="rest", priority=priority, now=at)
        return ticket.id


def test_queue_order_is_priority_then_oldest_first(sessions: sessionmaker[Session]) -> None:
    plan = [
        ("callback", Priority.CALLBACK, 0),
        ("requested-old", Priority.REQUESTED, 1),
        ("distress", Priority.DISTRESS, 2),
        ("requested-new", Priority.REQUESTED, 3),
        ("crisis-new", Priority.CRISIS, 5),
        ("emergency", Priority.EMERGENCY, 6),
        ("crisis-old", Priority.CRISIS, 4),
    ]
    for sender, priority, minute in plan:
        _open(sessions, sender, priority, T0 + timedelta(minutes=minute))
    expected = [
        "crisis-old",
        "crisis-new",
        "emergency",
        "distress",
        "requested-old",
        "requested-new",
        "callback",
    ]
    with sessions() as session:
        waiting = queue.ordered(session, Status.WAITING)
        assert [t.sender for t in waiting] == expected
        assert [queue.position(session, t) for t in waiting] == list(range(1, 8))


def test_one_open_ticket_per_family_and_priority_only_goes_up(sessions: sessionmaker[Session]) -> None:
    first = _open(sessions, "fam", Priority.REQUESTED, T0)
    assert _open(sessions, "fam", Priority.CRISIS, T0 + timedelta(minutes=1)) == first
    assert _open(sessions, "fam", Priority.DISTRESS, T0 + timedelta(minutes=2)) == first
    with sessions() as session:
        ticket = session.get(Ticket, first)
        assert ticket.priority == Priority.CRISIS.value
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.ticket_id == first))]
        assert kinds == ["opened", "escalated"]
        notices = [
            (n.kind, n.audience) for n in session.scalars(select(Notification).order_by(Notification.id))
        ]
        assert notices == [("new_ticket", "on_call"), ("priority_raised", "on_call")]


def _race(workers: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in ``workers`` threads released at the same instant; returns results or errors."""
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_racing_claims_have_exactly_one_winner(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        for round_ in range(5):
            ticket_id = _open(sessions, f"fam-{round_}", Priority.CRISIS, T0)

            def claim(index: int, ticket_id: int = ticket_id) -> str:
                with transaction(sessions) as session:
                    queue.claim(session, ticket_id, f"counselor-{index}", utcnow())
                return f"counselor-{index}"

            results = _race(8, claim)
            winners = [r for r in results if isinstance(r, str)]
            losers = [r for r in results if not isinstance(r, str)]
            assert len(winners) == 1, results
            assert all(isinstance(r, queue.Conflict) for r in losers), losers
            with sessions() as session:
                ticket = session.get(Ticket, ticket_id)
                assert (ticket.status, ticket.claimed_by) == ("active", winners[0])
                claims = session.scalars(
                    select(Event).where(Event.ticket_id == ticket_id, Event.kind == "claimed")
                )
                assert len(list(claims)) == 1
    finally:
        engine.dispose()


def test_racing_opens_for_one_family_share_one_ticket(database_url: str) -> None:
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        results = _race(6, lambda i: _open(sessions, "same-family", Priority.CRISIS, T0))
        assert len(set(results)) == 1, results
        with sessions() as session:
            assert len(list(session.scalars(select(Ticket)))) == 1
    finally:
        engine.dispose()


def test_claim_tells_the_family_and_a_closed_ticket_cannot_be_claimed(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _open(sessions, "fam", Priority.REQUESTED, T0)
    with transaction(sessions) as session:
        ticket, hello = queue.claim(session, ticket_id, "c1", T0)
        assert hello.author == "bot" and hello.sender == "fam"
        queue.close(session, ticket, "c1", "resolved", "", T0)
    with transaction(sessions) as session, pytest.raises(queue.Conflict):
        queue.claim(session, ticket_id, "c2", T0)
    with transaction(sessions) as session, pytest.raises(LookupError):
        queue.claim(session, 999, "c2", T0)


def test_only_the_holder_speaks_transfers_or_closes(sessions: sessionmaker[Session]) -> None:
    ticket_id = _open(sessions, "fam", Priority.DISTRESS, T0)
    with transaction(sessions) as session:
        ticket = session.get(Ticket, ticket_id)
        with pytest.raises(queue.Conflict):
            queue.counselor_says(session, ticket, "c1", "您好", T0)
        ticket, _ = queue.claim(session, ticket_id, "c1", T0)
        with pytest.raises(queue.NotHolder):
            queue.counselor_says(session, ticket, "c2", "您好", T0)
        with pytest.raises(queue.NotHolder):
            queue.close(session, ticket, "c2", "resolved", "", T0)
        said = queue.counselor_says(session, ticket, "c1", "您好，我是小李", T0)
        assert (said.author, said.text) == ("counselor", "您好，我是小李")
        told = queue.transfer(session, ticket, "c1", "c2", T0, "她想聊聊孩子")
        assert ticket.claimed_by == "c2"
        assert (told.sender, told.author, told.text) == ("fam", "bot", texts.TRANSFERRED)
        with pytest.raises(queue.Conflict):
            queue.transfer(session, ticket, "c2", "c2", T0)
        with pytest.raises(queue.NotHolder):
            queue.counselor_says(session, ticket, "c1", "还在吗", T0)
        queue.transfer(session, ticket, "admin", "c3", T0, override=True)
        assert ticket.claimed_by == "c3"
        audiences = [
            n.audience
            for n in session.scalars(select(Notification).where(Notification.kind == "transferred"))
        ]
        assert audiences == [notify.counselor("c2"), notify.counselor("c3")]


def test_back_to_the_queue_the_family_waits_again_and_those_on_call_are_told(
    sessions: sessionmaker[Session],
) -> None:
    ticket_id = _open(sessions, "fam", Priority.CRISIS, T0)
    later = _open(sessions, "later", Priority.CRISIS, T0 + timedelta(minutes=1))
    with transaction(sessions) as session:
        ticket, _ = queue.claim(session, ticket_id, "c1", T0 + timedelta(minutes=2))
        told = queue.transfer(session, ticket, "c1", None, T0 + timedelta(minutes=9), "我要去开会")
        assert told.text == texts.BACK_IN_QUEUE
        assert (ticket.status, ticket.claimed_by, ticket.claimed_at) == ("waiting", None, None)
        assert queue.position(session, ticket) == 1, "it keeps its place: opened before the other crisis"
        assert queue.position(session, session.get(Ticket, later)) == 2
        notice = session.scalars(select(Notification).order_by(Notification.id.desc())).first()
        assert (notice.kind, notice.audience) == ("returned", notify.ON_CALL)
        event = session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert (event.kind, event.text) == ("transferred", "我要去开会")
        assert event.data == {"previous": "c1", "to": None}
    with transaction(sessions) as session:
        again, _ = queue.claim(session, ticket_id, "c2", T0 + timedelta(minutes=10))
        assert again.claimed_by == "c2"


@pytest.mark.parametrize(
    ("priority", "reset"),
    [
        (Priority.CRISIS, True),
        (Priority.EMERGENCY, True),
        (Priority.DISTRESS, False),
        (Priority.REQUESTED, False),
    ],
)
def test_close_tells_the_family_and_resets_rasa_only_after_crisis_or_emergency(
    sessions: sessionmaker[Session], priority: Priority, reset: bool
) -> None:
    ticket_id = _open(sessions, "fam", priority, T0)
    with transaction(sessions) as session:
        ticket, _ = queue.claim(session, ticket_id, "c1", T0)
        goodbye = queue.close(session, ticket, "c1", "resolved", "聊得很好", T0)
    with sessions() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.status == "closed" and ticket.outcome == "resolved"
        assert ticket.closed_message_id == goodbye.id
        stored = session.get(Message, goodbye.id)
        assert stored.payload["custom"] == {
            "handoff": {"id": ticket_id, "status": "closed", "priority": priority.value, "position": 0}
        }
        conversation = session.get(Conversation, "fam")
        assert bool(conversation and conversation.rasa_reset_pending) is reset
        assert queue.open_ticket_of(session, "fam") is None
    assert _open(sessions, "fam", Priority.REQUESTED, T0) != ticket_id


def test_wait_estimate_uses_recent_claims_once_there_are_enough(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert queue.minutes_per_place(session, 5.0) == 5.0
    for index, wait in enumerate([4, 8, 12]):
        ticket_id = _open(sessions, f"done-{index}", Priority.REQUESTED, T0)
        with transaction(sessions) as session:
            queue.claim(session, ticket_id, "c1", T0 + timedelta(minutes=wait))
    ticket_id = _open(sessions, "waiting", Priority.REQUESTED, T0)
    with transaction(sessions) as session:
        duty.go_on(session, "c1", T0)
    with sessions() as session:
        assert queue.minutes_per_place(session, 5.0) == 8.0
        assert queue.wait_minutes(session, session.get(Ticket, ticket_id), 5.0) == (1, 8.0)


def test_the_wait_is_shared_by_the_counselors_on_duty(sessions: sessionmaker[Session]) -> None:
    for index in range(4):
        fourth = _open(sessions, f"fam-{index}", Priority.REQUESTED, T0 + timedelta(minutes=index))

    def wait() -> tuple[int, float | None]:
        with sessions() as session:
            return queue.wait_minutes(session, session.get(Ticket, fourth), 5.0)

    assert wait() == (4, None), "nobody on duty: no estimate at all"
    with transaction(sessions) as session:
        duty.go_on(session, "c1", T0)
    assert wait() == (4, 20.0)
    with transaction(sessions) as session:
        duty.go_on(session, "c2", T0)
        duty.go_on(session, "c2", T0 + timedelta(hours=1))  # twice on duty is still one counselor
    assert wait() == (4, 10.0)
    with transaction(sessions) as session:
        duty.go_off(session, "c1")
        duty.go_off(session, "c1")
        duty.go_off(session, "c2")
    assert wait() == (4, None)


def test_a_call_back_is_promised_only_ahead_and_within_thirty_days(sessions: sessionmaker[Session]) -> None:
    ticket_id = _open(sessions, "fam", Priority.DISTRESS, T0)
    with transaction(sessions) as session:
        ticket = session.get(Ticket, ticket_id)
        for due in (T0 - timedelta(seconds=1), T0 - timedelta(hours=1), T0 + timedelta(days=30, seconds=1)):
            with pytest.raises(queue.BadFollowUp):
                queue.schedule_followup(session, ticket, "c1", due, "", T0)
        planned = queue.schedule_followup(session, ticket, "c1", T0 + timedelta(days=1), "问问睡眠", T0)
        told = queue.promise_followup(session, ticket, planned)
    assert told.text == texts.FOLLOWUP_PROMISED.format(when="3月2日 16:00 ")  # T0 is 08:00 UTC
    assert "问问睡眠" not in told.text
