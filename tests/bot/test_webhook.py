"""The gateway's REST contract, with Rasa unreachable (a closed local port, not a mock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot import texts
from bot.app import create_app
from helpline.db import make_engine, make_session_factory
from helpline.messages import Message
from helpline.settings import load_settings
from tests.conftest import without_rasa

WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    settings = without_rasa(database_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _stored(database_url: str) -> list[Message]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        messages = list(session.scalars(select(Message).order_by(Message.id)))
    engine.dispose()
    return messages


def test_rasa_down_gets_a_kind_answer_and_loses_nothing(client: TestClient, database_url: str) -> None:
    response = client.post(WEBHOOK, json={"sender": "u1", "message": "你好"})
    assert response.status_code == 200
    assert response.json() == [{"recipient_id": "u1", "text": texts.ASSISTANT_UNAVAILABLE}]
    stored = _stored(database_url)
    assert [(m.direction, m.author, m.text) for m in stored] == [
        ("in", "family", "你好"),
        ("out", "bot", texts.ASSISTANT_UNAVAILABLE),
    ]


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_empty_message_is_answered_kindly(client: TestClient, message: str) -> None:
    response = client.post(WEBHOOK, json={"sender": "u1", "message": message})
    assert response.json() == [{"recipient_id": "u1", "text": texts.EMPTY_MESSAGE}]


def test_long_message_is_stored_whole_and_acknowledged(client: TestClient, database_url: str) -> None:
    long_text = "我想问问补助的事情。" * 1000
    response = client.post(WEBHOOK, json={"sender": "u2", "message": long_text})
    assert response.status_code == 200
    assert response.json()[0]["text"] == texts.TOO_LONG
    assert _stored(database_url)[0].text == long_text


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"message": "no sender"}', b'{"sender": "", "message": "x"}', b"[]", b'{"sender": 5}'],
)
def test_malformed_requests_get_a_400_in_chinese(client: TestClient, body: bytes) -> None:
    response = client.post(WEBHOOK, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "请求格式不对" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_json_body_is_read_whatever_its_content_type(client: TestClient, content_type: str | None) -> None:
    """``curl -d '{...}'`` sends JSON labelled as a form; Rasa's REST channel reads it, so do we."""
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps({"sender": "curl", "message": "你好"}).encode()
    response = client.post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 200
    assert response.json()[0]["recipient_id"] == "curl"


def test_oversized_body_is_refused_before_reading(client: TestClient) -> None:
    response = client.post(WEBHOOK, content=b"x" * (300 * 1024), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("message", ["😭😭😭", "<script>alert(1)</script>", "'; DROP TABLE messages; --"])
def test_odd_input_is_stored_verbatim(client: TestClient, database_url: str, message: str) -> None:
    assert client.post(WEBHOOK, json={"sender": "u3", "message": message}).status_code == 200
    assert _stored(database_url)[0].text == message


def test_healthz_names_the_parts_that_are_down(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    parts = response.json()["parts"]
    assert parts["database"] == {"ok": True}
    assert parts["rasa"]["ok"] is False
    assert parts["action_server"]["ok"] is False
    assert parts["model"]["ok"] is False


def test_openapi_documents_the_webhook_body(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"][WEBHOOK]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["sender"] and "message" in schema["properties"]


def test_with_a_rest_token_the_webhook_needs_it(database_url: str) -> None:
    base = without_rasa(database_url)
    with TestClient(create_app(replace(base, rest_token="s3cret"))) as guarded:
        body = {"sender": "u1", "message": "你好"}
        assert guarded.post(WEBHOOK, json=body).status_code == 401
        assert guarded.post(WEBHOOK, json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert guarded.post(WEBHOOK, json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    inbound = [m.text for m in _stored(database_url) if m.direction == "in"]
    assert inbound == ["你好"], "a refused request stores nothing"


def test_a_gateway_reachable_beyond_this_machine_refuses_to_start_without_a_token() -> None:
    with pytest.raises(SystemExit, match="HELPLINE_REST_TOKEN"):
        create_app(replace(load_settings(), host="0.0.0.0"))


def test_telegram_sender_ids_belong_to_telegram(client: TestClient, database_url: str) -> None:
    assert client.post(WEBHOOK, json={"sender": "tg-42", "message": "你好"}).status_code == 400
    assert _stored(database_url) == []


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"sender": "u1", "message": "'
        for _ in range(400):
            yield "我".encode() * 1000
        yield b'"}'

    response = client.post(WEBHOOK, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["detail"] == "内容太长了，请分几次发送。"
