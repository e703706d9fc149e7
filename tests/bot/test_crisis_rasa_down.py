"""The crisis path in a real gateway process: with Rasa stopped, across a crash, and beside a real Rasa.

The gateway runs as ``python -m bot`` (exactly as ``make run`` starts it) and is
talked to over real HTTP. "Rasa down" is a closed local port.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot import texts as bot_texts
from bot.app import create_app
from handoff import texts
from helpline import migrate, services
from helpline.db import make_engine, make_session_factory, transaction
from helpline.settings import Settings
from helpline.users import Role, add_user
from knowledge.repository import load_seed_into
from tests.conftest import free_port, without_rasa

WEBHOOK = "/webhooks/rest/webhook"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return without_rasa(database_url, port=free_port())


class Gateway:
    """A gateway process that can be started, killed and started again on the same database."""

    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.service = services.gateway_service(settings)
        self.url = f"http://{settings.host}:{settings.port}"
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = services.start(self.service, self._log_dir)
        services.wait_ready(self.service, self._process, timeout=60)

    def crash(self) -> None:
        """SIGKILL: no shutdown hook runs, like a power cut."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def stop(self) -> None:
        if self._process is not None:
            services.stop(self._process)

    def say(self, sender: str, message: str) -> list[dict]:
        response = httpx.post(f"{self.url}{WEBHOOK}", json={"sender": sender, "message": message}, timeout=30)
        assert response.status_code == 200
        return response.json()


@pytest.fixture
def gateway(settings: Settings, tmp_path: Path) -> Iterator[Gateway]:
    process = Gateway(settings, tmp_path / "logs")
    process.start()
    yield process
    process.stop()


def _counselor(settings: Settings) -> dict[str, str]:
    engine = make_engine(settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        token = add_user(session, "counselor", Role.COUNSELOR)
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def test_with_rasa_stopped_a_crisis_still_gets_the_lines_and_a_ticket(gateway: Gateway, settings) -> None:
    replies = gateway.say("fam", "我不想活了")
    spoken = "\n".join(item.get("text", "") for item in replies)
    assert replies[0]["text"] == texts.CRISIS_WARM
    for number in ["010-82951332", "400-161-9995", "12356", "120", "110"]:
        assert number in spoken
    handoff = replies[-1]["custom"]["handoff"]
    assert (handoff["status"], handoff["priority"], handoff["position"]) == ("waiting", "crisis", 1)
    queue = httpx.get(f"{gateway.url}/api/v1/handoffs", headers=_counselor(settings)).json()
    assert [(t["id"], t["priority"]) for t in queue] == [(handoff["id"], "crisis")]
    assert bot_texts.ASSISTANT_UNAVAILABLE in "".join(i.get("text", "") for i in gateway.say("other", "你好"))


def test_a_gateway_crash_mid_handoff_loses_no_message_and_no_ticket(gateway: Gateway, settings) -> None:
    counselor = _counselor(settings)
    api = f"{gateway.url}/api/v1/handoffs"
    ticket = gateway.say("fam", "我想自杀")[-1]["custom"]["handoff"]["id"]
    key = httpx.post(f"{gateway.url}{WEBHOOK}", json={"sender": "fam", "message": "有人吗"}).headers[
        "X-Helpline-Chat-Key"
    ]
    gateway.crash()
    gateway.start()
    assert gateway.say("fam", "还在等")[-1]["custom"]["handoff"]["id"] == ticket
    assert httpx.post(f"{api}/{ticket}/claim", headers=counselor).status_code == 200
    httpx.post(f"{api}/{ticket}/messages", json={"text": "您好，我是值班的咨询师"}, headers=counselor)
    gateway.crash()
    gateway.start()
    assert gateway.say("fam", "谢谢你来")[-1]["custom"]["handoff"]["status"] == "active"
    transcript = httpx.get(f"{api}/{ticket}", headers=counselor).json()["transcript"]
    family = [m["text"] for m in transcript if m["author"] == "family"]
    assert family == ["我想自杀", "有人吗", "还在等", "谢谢你来"]
    assert [m["text"] for m in transcript if m["author"] == "counselor"] == ["您好，我是值班的咨询师"]
    polled = httpx.get(f"{gateway.url}/api/v1/chats/fam/messages", params={"key": key}).json()
    assert polled["messages"][-1]["text"] == "您好，我是值班的咨询师"
    assert len(httpx.get(api, params={"status": "active"}, headers=counselor).json()) == 1
    assert httpx.get(api, headers=counselor).json() == []


@pytest.mark.integration
def test_with_rasa_up_a_crisis_never_reaches_rasa(rasa_stack: Settings, tmp_path: Path) -> None:
    settings = replace(rasa_stack, database_url=f"sqlite:///{tmp_path / 'gateway.db'}")
    migrate.upgrade(settings.database_url)
    with TestClient(create_app(settings)) as client:
        replies = client.post(WEBHOOK, json={"sender": "crisis-up", "message": "我想从楼上跳下去"}).json()
        assert replies[0]["text"] == texts.CRISIS_WARM
        assert replies[-1]["custom"]["handoff"]["priority"] == "crisis"
        tracker = httpx.get(f"{settings.rasa_url}/conversations/crisis-up/tracker").json()
        assert [e for e in tracker["events"] if e["event"] == "user"] == []
        greeted = client.post(WEBHOOK, json={"sender": "crisis-up-2", "message": "你好"}).json()
        assert "您好" in greeted[0]["text"]


def test_with_rasa_stopped_policy_questions_are_answered_from_the_knowledge_base(settings) -> None:
    load_seed_into(settings.database_url)
    with TestClient(create_app(settings)) as client:
        assert client.app.state.knowledge.loaded.wait(120) and client.app.state.knowledge.ready
        replies = client.post(WEBHOOK, json={"sender": "fam", "message": "失独老人每年能免费体检吗"}).json()
        words = [item["text"] for item in replies if "text" in item]
        assert "依据：西政办发〔2013〕17号 三（四）1" in words[0]
        assert words[1] == bot_texts.REDUCED_SERVICE
        unknown = client.post(WEBHOOK, json={"sender": "fam", "message": "今天天气怎么样"}).json()
        assert unknown[0]["text"] == bot_texts.ASSISTANT_UNAVAILABLE
