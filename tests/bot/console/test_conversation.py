"""One conversation in the console: transcript with marked risk sentences, summary, reply, close."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from handoff import duty
from handoff import texts as handoff_texts
from handoff.models import FollowUp, Notification, Ticket
from helpline.access_log import accesses
from helpline.db import transaction, utcnow
from helpline.messages import Author, Message
from helpline.users import Role
from intake.cases import BEIJING
from tests.bot.console.conftest import signed_in_as
from tests.bot.console.test_pages import HTMX, _acting, _queue

CRISIS = "今天天气不错。我不想活了。"


def _claimed(client: TestClient, name: str = "c1") -> tuple[int, str]:
    ticket = _queue(client, "fam", CRISIS)
    csrf = signed_in_as(client, name)
    assert client.post(f"/console/tickets/{ticket}/claim", headers=_acting(csrf)).status_code == 200
    return ticket, csrf


def test_the_transcript_marks_the_risk_sentence_and_the_read_is_logged(client: TestClient) -> None:
    ticket, _ = _claimed(client)
    html = client.get(f"/console/tickets/{ticket}").text
    assert "<mark" in html and "我不想活了。</mark>" in html
    assert "今天天气不错。<mark" in html  # the harmless sentence is not marked
    assert "助手" in html and "家属" in html  # the bot's turns are there too
    assert "最高风险" in html and "危机" in html
    assert html.count("<li>危机：") == 1  # one line per sentence, however many screens raised it
    assert "fam" not in html.split("<title>")[1].split("</title>")[0]
    with client.app.state.sessions() as session:
        assert [row.user_name for row in accesses(session, f"handoff:{ticket}")] == ["c1"]


def test_staff_cannot_open_a_conversation(client: TestClient) -> None:
    ticket = _queue(client, "fam", CRISIS)
    signed_in_as(client, "kb-editor", Role.STAFF)
    assert client.get(f"/console/tickets/{ticket}").status_code == 403
    assert client.get("/console/tickets/999").status_code == 403
    with client.app.state.sessions() as session:
        assert accesses(session, f"handoff:{ticket}") == []


def test_an_unknown_ticket_is_a_404_page(client: TestClient) -> None:
    signed_in_as(client, "c1")
    response = client.get("/console/tickets/999")
    assert response.status_code == 404 and "没有这张工单" in response.text


def test_the_holder_replies_and_others_are_told_who_holds_it(client: TestClient) -> None:
    ticket, csrf = _claimed(client)
    path = f"/console/tickets/{ticket}/messages"
    sent = client.post(path, data={"text": "我在这儿，慢慢说。"}, headers=_acting(csrf))
    assert sent.status_code == 200 and sent.text == ""
    with client.app.state.sessions() as session:
        last = session.scalars(select(Message).where(Message.sender == "fam").order_by(Message.id)).all()[-1]
        assert (last.author, last.text) == (Author.COUNSELOR.value, "我在这儿，慢慢说。")
    empty = client.post(path, data={"text": "  "}, headers=_acting(csrf))
    assert "请先写下" in empty.text
    client.cookies.clear()
    other = signed_in_as(client, "c2")
    refused = client.post(path, data={"text": "你好"}, headers=_acting(other))
    assert "已由 c1 接入" in refused.text
    assert 'id="reply"' not in client.get(f"/console/tickets/{ticket}").text


def test_the_conversation_stream_sends_the_transcript_and_state(client: TestClient) -> None:
    ticket, _ = _claimed(client)
    body = client.get(f"/console/tickets/{ticket}/stream").text
    assert "event: transcript\n" in body and "event: ticket\n" in body and "我不想活了" in body


def test_closing_as_no_risk_records_the_false_alarm(client: TestClient) -> None:
    ticket, csrf = _claimed(client)
    path = f"/console/tickets/{ticket}/close"
    assert "请选择结束的原因" in client.post(path, data={"outcome": "whatever"}, headers=_acting(csrf)).text
    closed = client.post(path, data={"outcome": "no_risk", "note": "在说电视剧"}, headers=_acting(csrf))
    assert closed.headers["HX-Redirect"] == "/console/queue"
    with client.app.state.sessions() as session:
        done = session.get(Ticket, ticket)
        assert done is not None and (done.status, done.outcome) == ("closed", "no_risk")
    again = client.post(path, data={"outcome": "resolved"}, headers=_acting(csrf))
    assert f"工单 #{ticket} 已经结束了" in again.text
    assert "误报：其实没有风险" in client.get(f"/console/tickets/{ticket}").text


def test_a_family_back_again_shows_its_earlier_ticket(client: TestClient) -> None:
    first, csrf = _claimed(client)
    client.post(f"/console/tickets/{first}/close", data={"outcome": "resolved"}, headers=_acting(csrf))
    second = _queue(client, "fam", "我不想活了")
    html = client.get(f"/console/tickets/{second}").text
    assert f'href="/console/tickets/{first}"' in html and "已处理，家属情况稳定" in html


def test_closing_needs_the_csrf_token(client: TestClient) -> None:
    ticket, _ = _claimed(client)
    response = client.post(f"/console/tickets/{ticket}/close", data={"outcome": "no_risk"}, headers=HTMX)
    assert response.status_code == 403


def test_a_private_note_is_shown_to_counselors_logged_and_never_told_the_family(client: TestClient) -> None:
    ticket, csrf = _claimed(client)
    path = f"/console/tickets/{ticket}/notes"
    assert client.post(path, data={"text": "老伴刚走半年"}, headers=HTMX).status_code == 403  # no CSRF
    empty = client.post(path, data={"text": " "}, headers=_acting(csrf))
    assert "请先写下备注" in empty.text and empty.headers["HX-Retarget"] == "#notice"
    saved = client.post(path, data={"text": "老伴刚走半年，晚上最难熬"}, headers=_acting(csrf))
    assert saved.status_code == 200 and "老伴刚走半年，晚上最难熬" in saved.text and "c1" in saved.text
    client.cookies.clear()
    signed_in_as(client, "c2")  # another counselor reads it too, and that read is logged
    assert "老伴刚走半年，晚上最难熬" in client.get(f"/console/tickets/{ticket}").text
    assert "老伴刚走半年" in client.get(f"/console/tickets/{ticket}/stream").text
    with client.app.state.sessions() as session:
        said = session.scalars(select(Message.text).where(Message.sender == "fam")).all()
        assert not any("老伴" in text for text in said)
        logged = [(row.user_name, row.action) for row in accesses(session, f"handoff:{ticket}")]
    assert ("c1", "note") in logged and ("c2", "read") in logged


def test_a_transfer_goes_only_to_a_colleague_on_duty_who_is_notified_and_the_family_told(
    client: TestClient,
) -> None:
    ticket, csrf = _claimed(client)
    path = f"/console/tickets/{ticket}/transfer"
    assert "转接" in client.get(f"/console/tickets/{ticket}").text
    assert client.post(path, data={"to": "c2"}, headers=HTMX).status_code == 403  # no CSRF
    assert "请选择要转给哪位同事" in client.post(path, data={"to": ""}, headers=_acting(csrf)).text
    assert "c2 现在不在岗" in client.post(path, data={"to": "c2"}, headers=_acting(csrf)).text
    with transaction(client.app.state.sessions) as session:
        duty.go_on(session, "c2", utcnow())
    assert "c2（在岗）" in client.get(f"/console/tickets/{ticket}").text
    moved = client.post(path, data={"to": "c2", "note": "她想聊聊孩子"}, headers=_acting(csrf))
    assert moved.headers["HX-Redirect"] == "/console/queue"
    with client.app.state.sessions() as session:
        done = session.get(Ticket, ticket)
        assert done is not None and (done.status, done.claimed_by) == ("active", "c2")
        last = session.scalars(select(Message).where(Message.sender == "fam").order_by(Message.id)).all()[-1]
        assert last.text == handoff_texts.TRANSFERRED
        notice = session.scalars(select(Notification).where(Notification.kind == "transferred")).one()
        assert notice.audience == "counselor:c2"
    again = client.post(path, data={"to": "queue"}, headers=_acting(csrf))
    assert "已由 c2 接入" in again.text  # no longer c1's to hand on
    client.cookies.clear()
    other = signed_in_as(client, "c2")
    page = client.get(f"/console/tickets/{ticket}").text
    assert 'id="reply"' in page and "她想聊聊孩子" in page
    back = client.post(path, data={"to": "queue"}, headers=_acting(other))
    assert back.headers["HX-Redirect"] == "/console/queue"
    with client.app.state.sessions() as session:
        done = session.get(Ticket, ticket)
        assert done is not None and (done.status, done.claimed_by) == ("waiting", None)
        said = session.scalars(select(Message.text).where(Message.sender == "fam")).all()
        assert said[-1] == handoff_texts.BACK_IN_QUEUE
    assert f'id="ticket-{ticket}"' in client.get("/console/queue").text


def test_closing_with_a_follow_up_books_the_call_back_and_tells_the_family_when(client: TestClient) -> None:
    ticket, csrf = _claimed(client)
    path = f"/console/tickets/{ticket}/close"
    day = (utcnow().astimezone(BEIJING) + timedelta(days=2)).date().isoformat()
    plan = {"outcome": "resolved", "followup_date": day, "followup_note": "问问睡得怎么样"}
    unreadable = client.post(path, data={**plan, "followup_time": "25:99"}, headers=_acting(csrf))
    assert "看不懂" in unreadable.text
    past = client.post(path, data={**plan, "followup_date": "2020-01-01"}, headers=_acting(csrf))
    assert "30 天以内" in past.text
    with client.app.state.sessions() as session:
        assert session.get(Ticket, ticket).status == "active"  # a refused call-back closes nothing
        assert session.scalars(select(FollowUp)).all() == []
    closed = client.post(path, data={**plan, "followup_time": "15:30"}, headers=_acting(csrf))
    assert closed.headers["HX-Redirect"] == "/console/queue"
    with client.app.state.sessions() as session:
        followup = session.scalars(select(FollowUp)).one()
        due = followup.due_at.astimezone(BEIJING)
        assert (due.date().isoformat(), due.strftime("%H:%M"), followup.note) == (
            day,
            "15:30",
            "问问睡得怎么样",
        )
        said = session.scalars(select(Message.text).where(Message.sender == "fam").order_by(Message.id)).all()
    assert said[-1] == handoff_texts.CLOSED
    assert said[-2].startswith("我们约好了：") and f"{due.month}月{due.day}日 15:30" in said[-2]
    assert "问问" not in said[-2], "the counselor's note for the call-back stays private"
    page = client.get(f"/console/tickets/{ticket}").text
    assert f"约定回访（{due:%m-%d} 15:30）" in page and "问问睡得怎么样" in page
