"""The watch loop with an injected clock: check-ins, repeated lines, a supervisor paged, call-backs."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff import duty, notify, queue, texts
from handoff.models import FollowUp, Notification, Priority, Status, Ticket
from handoff.notify import Notice
from handoff.watch import Action, Due, Watch, due_actions
from helpline.db import transaction, utcnow
from helpline.messages import Message
from helpline.settings import load_settings

SETTINGS = replace(
    load_settings(),
    handoff_checkin_seconds=60,
    handoff_repeat_lines_seconds=180,
    handoff_supervisor_seconds=300,
    handoff_max_checkins=3,
)
T0 = datetime(2026, 3, 1, 22, 0, tzinfo=utcnow().tzinfo)


def _open(sessions: sessionmaker[Session], sender: str, priority: Priority) -> int:
    with transaction(sessions) as session:
        ticket, _ = queue.open_ticket(session, sender=sender, channel="rest", priority=priority, now=T0)
        if priority is Priority.CRISIS:
            ticket.lines_given_at = T0
        return ticket.id


def _due(sessions: sessionmaker[Session], seconds: float) -> list[Due]:
    with sessions() as session:
        return due_actions(session, T0 + timedelta(seconds=seconds), SETTINGS)


class Recorder:
    """Stands in for the channels and for Telegram: keeps what it was given."""

    def __init__(self) -> None:
        self.pushed: list[Message] = []
        self.notices: list[Notice] = []

    async def push(self, message: Message) -> bool:
        self.pushed.append(message)
        return True

    async def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def watch(sessions: sessionmaker[Session], recorder: Recorder) -> Watch:
    return Watch(sessions, SETTINGS, recorder.push, [recorder])


def _tick(watch: Watch, seconds: float) -> list[Message]:
    return asyncio.run(watch.tick(T0 + timedelta(seconds=seconds)))


def test_nothing_is_due_before_the_first_interval(sessions) -> None:
    _open(sessions, "fam", Priority.REQUESTED)
    assert _due(sessions, 59) == []
    assert [d.action for d in _due(sessions, 60)] == [Action.CHECK_IN]


def _on_duty(sessions: sessionmaker[Session], counselor: str = "c1") -> None:
    with transaction(sessions) as session:
        duty.go_on(session, counselor, T0)


def test_check_ins_keep_company_and_stop_at_the_limit(sessions, watch: Watch) -> None:
    _on_duty(sessions)
    ticket_id = _open(sessions, "fam", Priority.DISTRESS)
    said = [m.text for second in (60, 90, 120, 180, 240, 300) for m in _tick(watch, second)]
    assert len(said) == 3
    assert said[0] == texts.CHECKIN_AT_RISK.format(place="您排在第 1 位，大约 5 分钟内会有人来")
    with sessions() as session:
        assert session.get(Ticket, ticket_id).checkins == 3


def test_a_crisis_check_in_with_nobody_on_duty_gives_the_lines_and_promises_nobody(sessions, watch) -> None:
    _open(sessions, "fam", Priority.CRISIS)
    [message] = _tick(watch, 61)
    assert message.text.startswith(texts.CHECKIN_NOBODY_INTRO)
    assert "010-82951332" in message.text and "120" in message.text
    assert "马上就来" not in message.text and "分钟" not in message.text
    _on_duty(sessions)
    [message] = _tick(watch, 122)
    assert message.text == texts.CHECKIN_AT_RISK.format(place=texts.PLACE_URGENT)


def test_a_requested_ticket_gets_the_plain_check_in(sessions, watch: Watch) -> None:
    _open(sessions, "fam", Priority.REQUESTED)
    [message] = _tick(watch, 61)
    assert message.text.startswith("还在为您排队")
    assert (message.sender, message.channel, message.author) == ("fam", "rest", "bot")


def test_a_family_message_answered_resets_the_check_in_clock(sessions) -> None:
    ticket_id = _open(sessions, "fam", Priority.REQUESTED)
    with transaction(sessions) as session:
        queue.touch(session, session.get(Ticket, ticket_id), T0 + timedelta(seconds=50))
    assert _due(sessions, 60) == []
    assert [d.action for d in _due(sessions, 110)] == [Action.CHECK_IN]


def test_unclaimed_crisis_gets_the_lines_again_and_pages_a_supervisor_once(
    sessions, watch: Watch, recorder: Recorder
) -> None:
    _on_duty(sessions)  # with nobody on duty every check-in carries the lines too
    _open(sessions, "fam", Priority.CRISIS)
    _tick(watch, 0)
    recorder.notices.clear()
    timeline = {second: [m.text for m in _tick(watch, second)] for second in (60, 120, 180, 240, 300, 360)}
    repeats = [second for second, said in timeline.items() if any("010-82951332" in t for t in said)]
    assert repeats == [180, 360]
    check_ins = [
        second for second, said in timeline.items() if any(t.startswith("我一直在这儿") for t in said)
    ]
    assert check_ins == [60, 120, 240], "three check-ins, the limit in SETTINGS"
    assert [(n.kind, n.audience) for n in recorder.notices] == [("unclaimed", "supervisor")]
    _tick(watch, 600)
    assert len(recorder.notices) == 1


def test_a_claimed_ticket_gets_no_more_check_ins(sessions, watch: Watch) -> None:
    ticket_id = _open(sessions, "fam", Priority.CRISIS)
    with transaction(sessions) as session:
        queue.claim(session, ticket_id, "c1", T0)
    assert _tick(watch, 1000) == []


def test_two_watchers_ticking_at_once_send_one_check_in(sessions, recorder: Recorder) -> None:
    _open(sessions, "fam", Priority.REQUESTED)
    first, second = Watch(sessions, SETTINGS, recorder.push, []), Watch(sessions, SETTINGS, recorder.push, [])
    moment = T0 + timedelta(seconds=61)
    with sessions() as session:
        dues = due_actions(session, moment, SETTINGS)

    async def both() -> None:
        await asyncio.gather(first.tick(moment), second.tick(moment))

    asyncio.run(both())
    assert len(dues) == 1
    assert len(recorder.pushed) == 1


def test_a_due_follow_up_puts_the_family_back_in_the_queue(
    sessions, watch: Watch, recorder: Recorder
) -> None:
    ticket_id = _open(sessions, "fam", Priority.CRISIS)
    with transaction(sessions) as session:
        ticket, _ = queue.claim(session, ticket_id, "c1", T0)
        queue.close(session, ticket, "c1", "safe for now", "", T0)
        queue.schedule_followup(session, ticket, "c1", T0 + timedelta(hours=24), "回访", T0)
    assert _tick(watch, 3600) == []
    [hello] = _tick(watch, 24 * 3600)
    assert hello.text.startswith("您好，之前说好要回访您")
    with sessions() as session:
        callback = queue.open_ticket_of(session, "fam")
        assert (callback.priority, callback.status) == (Priority.CALLBACK.value, Status.WAITING.value)
        assert session.scalar(select(FollowUp.callback_ticket_id)) == callback.id
    assert _tick(watch, 24 * 3600 + 1) == []
    assert recorder.notices[-1].kind == notify.Kind.NEW_TICKET


def test_a_failing_notifier_is_retried_until_it_works(sessions) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        async def notify(self, notice: Notice) -> None:
            self.calls += 1
            if self.calls == 1:
                raise ConnectionError("telegram down")

    flaky = Flaky()
    _open(sessions, "fam", Priority.CRISIS)
    assert asyncio.run(notify.dispatch(sessions, [flaky])) == 0
    assert asyncio.run(notify.dispatch(sessions, [flaky])) == 1
    assert asyncio.run(notify.dispatch(sessions, [flaky])) == 0
    with sessions() as session:
        row = session.scalar(select(Notification))
        assert row.sent_at is not None and row.attempts == 1
