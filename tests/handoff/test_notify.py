"""The notice outbox with more than one gateway: each notice goes out once, and none is stranded."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff import notify, queue
from handoff.models import Notification, Priority
from handoff.notify import Notice
from helpline.db import make_engine, make_session_factory, transaction, utcnow


class Slow:
    """A notifier that takes a while, so two gateways' dispatches overlap."""

    def __init__(self) -> None:
        self.delivered: list[int] = []

    async def notify(self, notice: Notice) -> None:
        await asyncio.sleep(0.05)
        self.delivered.append(notice.id)


def _open_tickets(sessions: sessionmaker[Session], count: int) -> None:
    with transaction(sessions) as session:
        for number in range(count):
            queue.open_ticket(
                session, sender=f"fam-{number}", channel="rest", priority=Priority.CRISIS, now=utcnow()
            )


def test_two_gateways_dispatching_at_once_send_each_notice_once(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(2)]
    factories = [make_session_factory(engine) for engine in engines]
    _open_tickets(factories[0], 12)
    notifiers = [Slow(), Slow()]
    start = threading.Barrier(2)

    def gateway(index: int) -> None:
        start.wait()
        asyncio.run(notify.dispatch(factories[index], [notifiers[index]]))

    threads = [threading.Thread(target=gateway, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    delivered = notifiers[0].delivered + notifiers[1].delivered
    with factories[0]() as session:
        rows = session.scalars(select(Notification)).all()
    for engine in engines:
        engine.dispose()
    assert len(rows) >= 12
    assert sorted(delivered) == sorted(row.id for row in rows)
    assert all(row.sent_at is not None and row.claimed_until is None for row in rows)


def test_a_notice_held_by_a_live_gateway_is_left_alone(sessions: sessionmaker[Session]) -> None:
    _open_tickets(sessions, 1)
    with transaction(sessions) as session:
        held = notify.claim(session, utcnow())
    assert held
    slow = Slow()
    assert asyncio.run(notify.dispatch(sessions, [slow])) == 0
    assert slow.delivered == []


def test_a_dead_gateways_claim_runs_out_and_the_notice_goes_out(sessions: sessionmaker[Session]) -> None:
    _open_tickets(sessions, 1)
    long_ago = utcnow() - notify.CLAIM_LEASE - timedelta(seconds=1)
    with transaction(sessions) as session:
        [held] = notify.claim(session, long_ago)
    slow = Slow()
    assert asyncio.run(notify.dispatch(sessions, [slow])) == 1
    assert slow.delivered == [held.id]
