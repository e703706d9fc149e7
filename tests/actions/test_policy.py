"""action_answer_policy with rasa-sdk's own Tracker and dispatcher, and end to end through Rasa."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.policy import ActionAnswerPolicy, forget_knowledge, knowledge, own_retriever
from bot.app import create_app
from helpline.settings import REPO_ROOT, Settings
from knowledge.repository import load_seed_into
from knowledge.retrieval import Hit
from knowledge.routing import entry_payload, hits_metadata

DOMAIN = yaml.safe_load((REPO_ROOT / "nlu" / "domain" / "policy.yml").read_text(encoding="utf-8"))


@pytest.fixture
def action(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ActionAnswerPolicy]:
    """The action as the action server runs it, on a seeded database named by the environment."""
    load_seed_into(database_url)
    monkeypatch.setenv("HELPLINE_DATABASE_URL", database_url)
    forget_knowledge()
    knowledge.future().result()  # as after the server's start-up
    yield ActionAnswerPolicy()
    forget_knowledge()


@pytest.fixture
def direct(action: ActionAnswerPolicy) -> ActionAnswerPolicy:
    """The action with its own retriever loaded, as for a client that talks to Rasa directly."""
    own_retriever.future().result()
    return action


def _run(
    action: ActionAnswerPolicy, text: str, metadata: dict[str, Any] | None = None, **slots: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tracker = Tracker(
        sender_id="family-1",
        slots={"kb_entry": None, "kb_last_entry": None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": "ask_policy", "confidence": 0.9},
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def test_a_policy_question_gets_clause_department_and_remembers_the_entry(direct: ActionAnswerPolicy) -> None:
    (message,), events = _run(direct, "免费体检几岁能做")
    assert "依据：西政办发〔2013〕17号 三（四）1" in message["text"]
    assert "区卫生局" in message["text"]
    assert SlotSet("kb_last_entry", "medical-free-annual-checkup") in events
    (follow,), _ = _run(direct, "那找谁办？", kb_last_entry="medical-free-annual-checkup")
    assert "区卫生局：联系方式工作人员还没有录入" in follow["text"]


def test_a_choice_button_answers_that_entry(action: ActionAnswerPolicy) -> None:
    payload = entry_payload("new-hope-home")
    assert payload == '/ask_policy{"kb_entry": "new-hope-home"}'
    (message,), events = _run(action, payload, kb_entry="new-hope-home")
    assert "新希望家园" in message["text"] and "三（二）2" in message["text"]
    assert SlotSet("kb_entry", None) in events and SlotSet("kb_last_entry", "new-hope-home") in events


def test_the_gateways_ranking_is_answered_without_a_model_of_its_own(action: ActionAnswerPolicy) -> None:
    ranking = hits_metadata([Hit("new-hope-home", 0.93, 0.93), Hit("psych-counseling-free", 0.61, 0.61)])
    (message,), events = _run(action, "新希望家园是干啥的", ranking)
    assert "三（二）2" in message["text"]
    assert SlotSet("kb_last_entry", "new-hope-home") in events
    assert not own_retriever.ready, "the gateway ranked the message: no second embedding model"


def test_a_ranking_below_every_threshold_is_not_a_guess(action: ActionAnswerPolicy) -> None:
    (message,), _ = _run(action, "明天天气咋样", hits_metadata([Hit("new-hope-home", 0.31, 0.31)]))
    assert "不太确定" in message["text"]
    assert not own_retriever.ready


def test_out_of_scope_offers_a_person_not_a_guess(direct: ActionAnswerPolicy) -> None:
    (message,), events = _run(direct, "明天天气咋样")
    assert "不太确定" in message["text"]
    assert {"title": "找工作人员", "payload": "/request_human"} in message["buttons"]
    assert events == [SlotSet("kb_entry", None)]


def test_an_unknown_button_payload_is_not_answered(action: ActionAnswerPolicy) -> None:
    (message,), _ = _run(action, '/ask_policy{"kb_entry": "<script>"}', kb_entry="<script>")
    assert "不太确定" in message["text"]


@pytest.mark.integration
def test_policy_answer_and_follow_up_through_the_gateway_and_rasa(rasa_stack: Settings) -> None:
    with TestClient(create_app(replace(rasa_stack))) as gateway:

        def say(text: str) -> str:
            response = gateway.post("/webhooks/rest/webhook", json={"sender": "kb-family", "message": text})
            assert response.status_code == 200
            return "\n".join(item.get("text", "") for item in response.json())

        answer = say("免费体检几岁能做")
        assert "依据：西政办发〔2013〕17号 三（四）1" in answer, answer
        assert "区卫生局" in answer
        follow = say("那找谁办？")
        assert "可以找" in follow and "区卫生局" in follow, follow
