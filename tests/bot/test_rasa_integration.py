"""Chinese through the gateway to a real Rasa server with the trained model and the action server."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


def _say(gateway: TestClient, sender: str, message: str) -> list[dict]:
    response = gateway.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
    assert response.status_code == 200
    return response.json()


def test_greeting_is_answered_in_chinese(gateway: TestClient) -> None:
    replies = _say(gateway, "integration-greet", "你好")
    assert replies and replies[0]["recipient_id"] == "integration-greet"
    assert "您好" in replies[0]["text"]


def test_healthz_is_green_with_everything_up(gateway: TestClient) -> None:
    assert gateway.app.state.knowledge.loaded.wait(120), (
        "the gateway's knowledge base loads in the background"
    )
    body = gateway.get("/healthz").json()
    assert body["status"] == "ok", body
    assert body["parts"]["model"]["file"].endswith(".tar.gz")
