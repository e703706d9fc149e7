"""The queue and conversation pages over the real app and database (Rasa a closed port)."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff.models import Ticket
from helpline.access_log import accesses
from helpline.db import transaction
from helpline.messages import Author, Message
from helpline.users import Role
from tests.bot.console.conftest import signed_in_as

WEBHOOK = "/webhooks/rest/webhook"
QUEUE = "/console/queue"
HTMX = {"HX-Request": "true"}


def _queue(client: TestClient, sender: str, message: str) -> int:
    response = client.post(WEBHOOK, json={"sender": sender, "message": message})
    assert response.status_code == 200
    return response.json()[-1]["custom"]["handoff"]["id"]


def _acting(csrf: str) -> dict[str, str]:
    return {**HTMX, "X-CSRF-Token": csrf}


def test_only_counselors_and_admins_see_the_queue(client: TestClient) -> None:
    assert client.get(QUEUE, follow_redirects=False).headers["location"] == "/console/login"
    signed_in_as(client, "kb-editor", Role.STAFF)
    refused = client.get(QUEUE)
    assert refused.status_code == 403 and "没有这项权限" in refused.text and "<html" in refused.text
    client.cookies.clear()
    signed_in_as(client, "boss", Role.ADMIN)
    assert client.get(QUEUE).status_code == 200


def test_a_counselor_starts_at_the_queue(client: TestClient) -> None:
    signed_in_as(client, "c1")
    assert client.get("/console/", follow_redirects=False).headers["location"] == QUEUE


def test_the_queue_is_in_risk_order_with_waits_and_first_words(client: TestClient) -> None:
    asked = _queue(client, "asked", "转人工")
    crisis = _queue(client, "crisis", "我不想活了，真的撑不下去")
    signed_in_as(client, "c1")
    with transaction(client.app.state.sessions) as session:
        ticket = session.get(Ticket, crisis)
        assert ticket is not None
        ticket.opened_at -= timedelta(minutes=3)  # past a crisis's 2-minute claim target
    html = client.get(QUEUE).text
    assert html.index(f'id="ticket-{crisis}"') < html.index(f'id="ticket-{asked}"')
    assert f'data-crisis="{crisis}"' in html
    assert "危机" in html and "要求人工" in html
    assert "我不想活了，真的撑不下去" in html
    assert re.search(r'class="sla-over">3 分 0\d 秒（已超时）', html)
    with client.app.state.sessions() as session:
        # once after signing in (the console opens at the queue), once here
        assert [row.user_name for row in accesses(session, "handoffs")] == ["c1", "c1"]


def test_two_counselors_claim_at_once_and_the_loser_sees_who_won(client: TestClient) -> None:
    ticket = _queue(client, "fam", "我不想活了")
    first = signed_in_as(client, "c1")
    won = client.post(f"/console/tickets/{ticket}/claim", headers=_acting(first))
    assert won.status_code == 200 and won.headers["HX-Redirect"] == f"/console/tickets/{ticket}"
    client.cookies.clear()
    second = signed_in_as(client, "c2")
    lost = client.post(f"/console/tickets/{ticket}/claim", headers=_acting(second))
    assert lost.status_code == 200 and "已由 c1 接入" in lost.text
    assert '由 <strong class="holder">c1</strong> 接待' in client.get(QUEUE).text
    with client.app.state.sessions() as session:
        said = session.scalars(select(Message).where(Message.sender == "fam")).all()
        assert said[-1].author == Author.BOT.value  # the family was told a person is here


def test_a_claim_without_the_csrf_token_is_refused(client: TestClient) -> None:
    ticket = _queue(client, "fam", "我不想活了")
    signed_in_as(client, "c1")
    assert client.post(f"/console/tickets/{ticket}/claim", headers=HTMX).status_code == 403
    assert client.post(f"/console/tickets/{ticket}/claim", data={"csrf": "forged"}).status_code == 403
    with client.app.state.sessions() as session:
        assert session.get(Ticket, ticket).status == "waiting"


def test_a_plain_form_claim_goes_to_the_conversation(client: TestClient) -> None:
    ticket = _queue(client, "fam", "人工")
    csrf = signed_in_as(client, "c1")
    response = client.post(f"/console/tickets/{ticket}/claim", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/console/tickets/{ticket}"


def test_the_queue_stream_sends_the_queue_then_ends_for_a_reconnect(client: TestClient) -> None:
    ticket = _queue(client, "fam", "我不想活了")
    signed_in_as(client, "c1")
    response = client.get(f"{QUEUE}/stream")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: 1000\n\n")
    assert "event: queue\n" in response.text and f'data-crisis="{ticket}"' in response.text


def test_a_stream_without_a_live_session_says_so(client: TestClient) -> None:
    response = client.get(f"{QUEUE}/stream")
    assert response.status_code == 200 and "登录已过期" in response.text


def _texts(response_json: list[dict[str, object]]) -> str:
    return "\n".join(str(reply.get("text", "")) for reply in response_json)


def test_going_on_duty_is_listed_and_the_families_hear_a_wait_only_then(client: TestClient) -> None:
    before = client.post(WEBHOOK, json={"sender": "early", "message": "转人工"}).json()
    assert "现在暂时没有工作人员在线" in _texts(before) and "分钟" not in _texts(before)
    csrf = signed_in_as(client, "c1")
    assert "现在没有人在岗" in client.get(QUEUE).text
    assert client.post("/console/duty", data={"on": "1"}, headers=HTMX).status_code == 403  # no CSRF
    on = client.post("/console/duty", data={"on": "1"}, headers=_acting(csrf))
    assert on.status_code == 200 and "<strong>c1</strong>（您）" in on.text and "我要下班" in on.text
    later = client.post(WEBHOOK, json={"sender": "later", "message": "转人工"}).json()
    assert "您排在第 2 位，大约" in _texts(later) and "分钟内会有人来" in _texts(later)
    crisis = _texts(client.post(WEBHOOK, json={"sender": "crisis", "message": "我不想活了"}).json())
    assert "值班的人正在赶过来" in crisis and "分钟" not in crisis
    off = client.post("/console/duty", data={"on": "0", "csrf": csrf}, follow_redirects=False)
    assert off.status_code == 303 and "现在没有人在岗" in client.get(QUEUE).text


def test_the_queue_stream_shows_who_is_on_duty_and_signing_out_ends_duty(client: TestClient) -> None:
    csrf = signed_in_as(client, "c1")
    client.post("/console/duty", data={"on": "1"}, headers=_acting(csrf))
    assert "<strong>c1</strong>" in client.get(f"{QUEUE}/stream").text
    client.post("/console/logout", data={"csrf": csrf})
    client.cookies.clear()
    signed_in_as(client, "c2")
    assert "现在没有人在岗" in client.get(QUEUE).text
    crisis = _texts(client.post(WEBHOOK, json={"sender": "crisis", "message": "我不想活了"}).json())
    assert "正在为您联系工作人员" in crisis and "010-82951332" in crisis
