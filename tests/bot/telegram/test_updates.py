"""Each update handled once: redeliveries dropped, crashed ones replayed, old ids forgotten."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.models import ProcessedUpdate
from bot.telegram.updates import Inbox
from helpline.db import transaction, utcnow

BODY = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}}


def test_only_the_first_delivery_of_an_update_is_handled(sessions: sessionmaker[Session]) -> None:
    inbox = Inbox(sessions)
    assert inbox.begin(7, BODY)
    assert not inbox.begin(7, BODY)
    inbox.finish(7)
    assert not inbox.begin(7, BODY)
    assert not inbox.accept(7, BODY)


def test_a_webhook_update_recorded_first_is_still_handled_once(sessions: sessionmaker[Session]) -> None:
    inbox = Inbox(sessions)
    assert inbox.accept(7, BODY)
    assert inbox.begin(7, BODY)
    assert not inbox.begin(7, BODY)


def test_updates_a_crash_interrupted_are_replayed_and_their_content_then_forgotten(
    sessions: sessionmaker[Session],
) -> None:
    inbox = Inbox(sessions)
    inbox.accept(8, {**BODY, "update_id": 8})
    inbox.begin(7, BODY)
    assert [body["update_id"] for body in inbox.unfinished()] == [7, 8]
    assert inbox.begin(7, BODY)
    inbox.finish(7)
    with sessions() as session:
        assert session.get(ProcessedUpdate, 7).body is None
    assert [body["update_id"] for body in inbox.unfinished()] == [8]


def test_ids_handled_long_ago_are_pruned(sessions: sessionmaker[Session]) -> None:
    inbox = Inbox(sessions)
    for update_id in (1, 2):
        inbox.begin(update_id, {**BODY, "update_id": update_id})
        inbox.finish(update_id)
    with transaction(sessions) as session:
        session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == 1)
            .values(done_at=utcnow() - timedelta(days=3))
        )
    assert inbox.prune() == 1
    assert not inbox.begin(2, BODY)
