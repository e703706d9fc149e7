"""Whatever a family sends gets a kind reply or a 4xx: never a 500, never a hang (hypothesis).

Rasa is a closed local port here, so every reply comes from the gateway itself; the
property is that no text, however odd, breaks the way to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import create_app
from helpline import migrate
from tests.conftest import without_rasa

WEBHOOK = "/webhooks/rest/webhook"

ODD_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(alphabet="我不想活了也算全都孩子😀\x00\x07\u200b\u202e <>&;'\"", max_size=2000),
    st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=4), st.integers(1, 3000)),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('props') / 'props.db'}"
    migrate.upgrade(url)
    gateway = without_rasa(url)
    with TestClient(create_app(replace(gateway, rate_per_sender="100000/minute"))) as test_client:
        yield test_client


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ODD_TEXT, sender=st.text(min_size=1, max_size=40))
def test_any_text_from_any_sender_gets_a_reply_or_a_4xx(client: TestClient, text: str, sender: str) -> None:
    response = client.post(WEBHOOK, json={"sender": sender, "message": text})
    assert response.status_code < 500, response.text[:200]
    if response.status_code == 200:
        replies = response.json()
        assert replies and all(isinstance(item, dict) for item in replies)
        assert any(item.get("text") for item in replies), "a kind word, never silence"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=500))
def test_any_body_at_all_is_a_reply_or_a_4xx(client: TestClient, body: bytes) -> None:
    response = client.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code < 500
