"""The counselor API over real HTTP and real databases, with Rasa unreachable (a closed port)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from bot.app import create_app
from bot.delivery import Outbound
from handoff import duty
from handoff import texts as handoff_texts
from handoff.models import Event, FollowUp, Notification
from helpline.access_log import accesses
from helpline.db import transaction, utcnow
from helpline.messages import Author, Direction, Message, record
from helpline.secrets import chat_key
from helpline.users import Role
from intake.drafts import save_draft
from tests.conftest import bearer_token, without_rasa

WEBHOOK = "/webhooks/rest/webhook"
HANDOFFS = "/api/v1/handoffs"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = without_rasa(database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _auth(client: TestClient, name: str, role: Role = Role.COUNSELOR) -> dict[str, str]:
    with transaction(client.app.state.sessions) as session:
        return {"Authorization": f"Bearer {bearer_token(session, name, role)}"}


def _say(client: TestClient, sender: str, message: str) -> list[dict]:
    response = client.post(WEBHOOK, json={"sender": sender, "message": message})
    assert response.status_code == 200
    return response.json()


def _queue(client: TestClient, sender: str, message: str) -> int:
    return _say(client, sender, message)[-1]["custom"]["handoff"]["id"]


def test_anonymous_is_401_and_staff_is_403(client: TestClient) -> None:
    ticket = _queue(client, "fam", "人工")
    staff = _auth(client, "kb-editor", Role.STAFF)
    for method, path in [
        ("GET", HANDOFFS),
        ("GET", f"{HANDOFFS}/{ticket}"),
        ("POST", f"{HANDOFFS}/{ticket}/claim"),
        ("GET", f"{HANDOFFS}/{ticket}"),
    ]:
        assert client.request(method, path).status_code == 401
        assert client.request(method, path, headers=staff).status_code == 403
    assert client.get(HANDOFFS, headers=_auth(client, "boss", Role.ADMIN)).status_code == 200


def test_a_ticket_id_past_what_the_database_stores_is_a_400_not_a_500(client: TestClient) -> None:
    """schemathesis found 2**63: SQLite cannot bind it, a 500. The bound is PostgreSQL's integer."""
    counselor = _auth(client, "c1")
    for ticket in (2**63, 2**31):
        response = client.post(f"{HANDOFFS}/{ticket}/claim", headers=counselor)
        assert response.status_code == 400, response.text
    assert client.get(f"{HANDOFFS}/{2**31 - 1}", headers=counselor).status_code == 404


def test_the_list_is_in_queue_order_with_positions(client: TestClient) -> None:
    counselor = _auth(client, "c1")
    _queue(client, "asked", "转人工")
    _queue(client, "fire", "家里着火了")
    _queue(client, "crisis", "我不想活了")
    waiting = client.get(HANDOFFS, headers=counselor).json()
    assert [(t["sender"], t["priority"], t["position"]) for t in waiting] == [
        ("crisis", "crisis", 1),
        ("fire", "emergency", 2),
        ("asked", "requested", 3),
    ]
    assert client.get(HANDOFFS, params={"status": "active"}, headers=counselor).json() == []
    assert client.get(HANDOFFS, params={"status": "bogus"}, headers=counselor).status_code == 400


def test_reading_a_transcript_is_access_logged_and_summarised(client: TestClient) -> None:
    counselor = _auth(client, "c1")
    _say(client, "fam", "晚上睡不着，天天想孩子")
    ticket = _queue(client, "fam", "我真的不想活了")
    _say(client, "fam", "还要等多久")
    body = client.get(f"{HANDOFFS}/{ticket}", headers=counselor).json()
    family_words = [m["text"] for m in body["transcript"] if m["author"] == "family"]
    assert family_words == ["晚上睡不着，天天想孩子", "我真的不想活了", "还要等多久"]
    signals = body["summary"]["risk_signals"]
    assert any(s["level"] == "crisis" and s["sentence"] == "我真的不想活了" for s in signals)
    assert any(s["level"] == "distress" and s["sentence"] == "晚上睡不着，天天想孩子" for s in signals)
    assert body["summary"]["highest_level"] == "crisis"
    assert body["summary"]["intake"] == {"draft": None, "cases": []}
    client.get(f"{HANDOFFS}/{ticket}", headers=counselor)
    with client.app.state.sessions() as session:
        rows = accesses(session, f"handoff:{ticket}")
    assert [(r.user_name, r.action) for r in rows] == [("c1", "read"), ("c1", "read")]
    assert client.get(f"{HANDOFFS}/999", headers=counselor).status_code == 404


def test_the_summary_shows_what_the_intake_form_collected_even_with_rasa_down(client: TestClient) -> None:
    with transaction(client.app.state.sessions) as session:
        save_draft(session, "fam", "psych_form", {"street": "月坛街道", "wants_home_visit": True})
    ticket = _queue(client, "fam", "人工")
    intake = client.get(f"{HANDOFFS}/{ticket}", headers=_auth(client, "c1")).json()["summary"]["intake"]
    assert intake["draft"]["form"] == "psych_form"
    assert intake["draft"]["answers"] == {"street": "月坛街道", "wants_home_visit": True}


def test_two_counselors_claiming_at_once_one_wins(client: TestClient) -> None:
    ticket = _queue(client, "fam", "我想自杀")
    tokens = [_auth(client, f"c{i}") for i in range(6)]
    barrier = threading.Barrier(len(tokens))
    codes: list[int] = []

    def claim(headers: dict[str, str]) -> None:
        barrier.wait()
        codes.append(client.post(f"{HANDOFFS}/{ticket}/claim", headers=headers).status_code)

    threads = [threading.Thread(target=claim, args=(headers,)) for headers in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [200] + [409] * 5


def test_a_whole_hand_off_over_http(client: TestClient) -> None:
    c1, c2 = _auth(client, "c1"), _auth(client, "c2")
    ticket = _queue(client, "fam", "转人工")
    assert client.post(f"{HANDOFFS}/{ticket}/messages", json={"text": "您好"}, headers=c1).status_code == 409
    claimed = client.post(f"{HANDOFFS}/{ticket}/claim", headers=c1).json()
    assert (claimed["status"], claimed["claimed_by"]) == ("active", "c1")
    sent = client.post(f"{HANDOFFS}/{ticket}/messages", json={"text": "您好，我是小李"}, headers=c1)
    assert sent.status_code == 201 and sent.json()["pushed"] is False
    assert client.post(f"{HANDOFFS}/{ticket}/messages", json={"text": "我来"}, headers=c2).status_code == 403
    assert client.post(f"{HANDOFFS}/{ticket}/messages", json={"text": "   "}, headers=c1).status_code == 400
    assert _say(client, "fam", "谢谢你") == [
        {
            "recipient_id": "fam",
            "custom": {"handoff": {"id": ticket, "status": "active", "priority": "requested", "position": 0}},
        }
    ]
    assert client.post(f"{HANDOFFS}/{ticket}/notes", json={"text": "老人独居"}, headers=c2).status_code == 201
    assert client.post(f"{HANDOFFS}/{ticket}/transfer", json={"to": "nobody"}, headers=c1).status_code == 400
    assert client.post(f"{HANDOFFS}/{ticket}/transfer", json={"to": "c2"}, headers=c1).status_code == 400
    with transaction(client.app.state.sessions) as session:
        duty.go_on(session, "c2", utcnow())  # only a colleague on duty can take the family
    assert (
        client.post(f"{HANDOFFS}/{ticket}/transfer", json={"to": "c2"}, headers=c1).json()["claimed_by"]
        == "c2"
    )
    followup = client.post(f"{HANDOFFS}/{ticket}/followup", json={"hours": 24, "note": "回访"}, headers=c2)
    assert followup.status_code == 201
    assert client.post(f"{HANDOFFS}/{ticket}/close", json={"outcome": "ok"}, headers=c1).status_code == 403
    closed = client.post(
        f"{HANDOFFS}/{ticket}/close", json={"outcome": "resolved", "note": "好多了"}, headers=c2
    )
    assert closed.json()["status"] == "closed"
    assert client.post(f"{HANDOFFS}/{ticket}/close", json={"outcome": "again"}, headers=c2).status_code == 409
    assert client.get(HANDOFFS, params={"status": "closed"}, headers=c2).json()[0]["id"] == ticket
    with client.app.state.sessions() as session:
        kinds = [
            e.kind for e in session.scalars(select(Event).where(Event.ticket_id == ticket).order_by(Event.id))
        ]
        assert kinds == ["opened", "claimed", "note", "transferred", "followup_scheduled", "closed"]
        told = session.scalars(select(Message.text).where(Message.sender == "fam")).all()
        assert handoff_texts.TRANSFERRED in told
        assert session.scalar(select(FollowUp.note)) == "回访"
        assert (
            session.scalar(select(Notification.audience).where(Notification.kind == "transferred"))
            == "counselor:c2"
        )


def _poll(client: TestClient, sender: str, **params: object) -> Response:
    key = chat_key(client.app.state.secret, "rest", sender)
    return client.get(f"/api/v1/chats/{sender}/messages", params={"key": key, **params})


def test_rest_families_poll_for_what_counselors_say(client: TestClient) -> None:
    counselor = _auth(client, "c1")
    ticket = _queue(client, "web-family", "人工")
    first = _poll(client, "web-family").json()
    assert first["handoff"] == {"id": ticket, "status": "waiting", "priority": "requested", "position": 1}
    cursor = first["cursor"]
    client.post(f"{HANDOFFS}/{ticket}/claim", headers=counselor)
    client.post(f"{HANDOFFS}/{ticket}/messages", json={"text": "您好，我是小李"}, headers=counselor)
    client.post(f"{HANDOFFS}/{ticket}/close", json={"outcome": "resolved"}, headers=counselor)
    later = _poll(client, "web-family", after=cursor).json()
    assert [(m["author"], m["text"][:4]) for m in later["messages"]] == [
        ("bot", "工作人员"),
        ("counselor", "您好，我"),
        ("bot", "这次和工"),
    ]
    assert later["messages"][-1]["custom"]["handoff"]["status"] == "closed"
    assert later["handoff"] is None
    assert _poll(client, "web-family", after=later["cursor"]).json()["messages"] == []
    assert _poll(client, "web-family", after=-1).status_code == 400


def test_a_conversation_is_read_back_only_with_its_own_key(client: TestClient) -> None:
    answered = client.post("/webhooks/rest/webhook", json={"sender": "web-family", "message": "你好"})
    key = answered.headers["X-Helpline-Chat-Key"]
    assert all("chat_key" not in str(item) for item in answered.json()), "the body stays Rasa's"
    assert key == chat_key(client.app.state.secret, "rest", "web-family")
    url = "/api/v1/chats/web-family/messages"
    assert client.get(url, params={"key": key}).status_code == 200
    assert client.get(url).status_code in (400, 422)
    assert client.get(url, params={"key": "0" * 32}).status_code == 404
    other = chat_key(client.app.state.secret, "rest", "someone-else")
    assert client.get(url, params={"key": other}).status_code == 404


def test_polling_serves_rest_conversations_only(client: TestClient) -> None:
    """A Telegram chat id is a guessable number: its transcript is never served to a poller."""
    with transaction(client.app.state.sessions) as session:
        both_ways = [(Direction.INBOUND, Author.FAMILY), (Direction.OUTBOUND, Author.BOT)]
        for direction, author in both_ways:
            record(session, sender="tg-42", channel="telegram", direction=direction, author=author, text="hi")
    polled = _poll(client, "tg-42").json()
    assert polled == {"messages": [], "cursor": 0, "handoff": None}


def test_channels_that_push_get_counselor_messages_pushed(client: TestClient) -> None:
    pushed: list[Outbound] = []

    class Phone:
        async def deliver(self, outbound: Outbound) -> None:
            pushed.append(outbound)

    client.app.state.delivery.register("rest", Phone())
    counselor = _auth(client, "c1")
    ticket = _queue(client, "fam", "人工")
    client.post(f"{HANDOFFS}/{ticket}/claim", headers=counselor)
    response = client.post(f"{HANDOFFS}/{ticket}/messages", json={"text": "您好"}, headers=counselor)
    assert response.json()["pushed"] is True
    assert [(p.sender, p.author, p.reply.text) for p in pushed][-1] == ("fam", "counselor", "您好")
