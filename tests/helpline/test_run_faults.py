"""``make run`` under fault: Rasa and then the action server are killed mid-conversation.

The assistant runs as ``python -m helpline.run`` does under ``make run`` (its own
database and ports). Crisis replies must go on at once, policy answers must go on
from the gateway's knowledge base, the supervisor must bring the killed process back,
and no message may be lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot import texts as bot_texts
from handoff import texts
from helpline.db import make_engine, make_session_factory
from helpline.messages import Message
from helpline.settings import REPO_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.integration

POLICY_QUESTION = "失独老人每年能免费体检吗"
BACK_WITHIN = 240.0
"""The issue's bound: policy answers from Rasa again within 4 minutes of a kill."""


class Assistant:
    """``python -m helpline.run`` on free ports and a database of its own."""

    def __init__(self, workdir: Path) -> None:
        port, rasa, actions = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.database_url = f"sqlite:///{workdir / 'run.db'}"
        env = {
            **os.environ,
            "HELPLINE_DATABASE_URL": self.database_url,
            "HELPLINE_PORT": str(port),
            "HELPLINE_RASA_URL": f"http://127.0.0.1:{rasa}",
            "HELPLINE_ACTION_SERVER_URL": f"http://127.0.0.1:{actions}",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "helpline.run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=(workdir / "run.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def say(self, sender: str, message: str) -> list[dict]:
        response = httpx.post(
            f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=30
        )
        assert response.status_code == 200
        return response.json()

    def child(self, marker: str) -> int:
        """The pid of the supervisor's child whose command line holds ``marker``."""
        listing = subprocess.run(
            ["ps", "-ww", "--ppid", str(self.process.pid), "-o", "pid=,args="],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pids = [int(line.split()[0]) for line in listing.splitlines() if marker in line]
        assert len(pids) == 1, listing
        return pids[0]

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(1.0)
    raise AssertionError(f"{what} not within {timeout:.0f} s")


@pytest.fixture
def assistant(tmp_path: Path) -> Iterator[Assistant]:
    running = Assistant(tmp_path)
    try:
        _wait(lambda: httpx.get(f"{running.url}/healthz", timeout=5).status_code == 200, 300, "all parts up")
        yield running
    finally:
        running.stop()


def _words(replies: list[dict]) -> str:
    return "\n".join(item.get("text", "") for item in replies)


def _answered_by_rasa(assistant: Assistant, sender: str) -> bool:
    words = _words(assistant.say(sender, POLICY_QUESTION))
    return "依据" in words and bot_texts.REDUCED_SERVICE not in words


@pytest.mark.parametrize("killed", ["rasa run", "actions.server"])
def test_a_killed_process_keeps_crisis_and_policy_answers_and_comes_back(
    assistant: Assistant, killed: str
) -> None:
    assert _answered_by_rasa(assistant, "before")
    os.kill(assistant.child(killed), signal.SIGKILL)
    started = time.monotonic()
    crisis = assistant.say("family", "我不想活了")
    assert time.monotonic() - started < 5
    assert crisis[0]["text"] == texts.CRISIS_WARM and "010-82951332" in _words(crisis)
    policy = _words(assistant.say("asker", POLICY_QUESTION))
    assert "依据：西政办发〔2013〕17号 三（四）1" in policy, policy
    took = _wait(lambda: _answered_by_rasa(assistant, "after"), BACK_WITHIN, f"{killed} back")
    print(f"{killed}: policy answers from Rasa again {took:.0f} s after the kill")
    engine = make_engine(assistant.database_url)
    with make_session_factory(engine)() as session:
        inbound = list(session.scalars(select(Message.text).where(Message.direction == "in")))
    engine.dispose()
    assert inbound.count("我不想活了") == 1 and POLICY_QUESTION in inbound, "no message lost"
