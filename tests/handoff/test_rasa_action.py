"""Rasa's hand-off action as the action server runs it, and the Rasa files that wire it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import ActionExecutor

from actions.handoff import ActionHelplineSignal
from handoff.safety import INTENT_LEVELS, REQUEST_HUMAN_INTENT, SIGNAL_KEY
from helpline.settings import REPO_ROOT

SIGNAL_INTENTS = [*INTENT_LEVELS, REQUEST_HUMAN_INTENT]


def _call(intent: str, confidence: Any) -> dict[str, Any]:
    """The JSON Rasa posts to the action server's /webhook."""
    return {
        "next_action": "action_helpline_signal",
        "sender_id": "fam",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "fam",
            "slots": {},
            "latest_message": {"intent": {"name": intent, "confidence": confidence}, "text": "…"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.mark.parametrize("intent", SIGNAL_INTENTS)
def test_the_action_answers_with_one_machine_readable_signal(intent: str) -> None:
    executor = ActionExecutor()
    executor.register_action(ActionHelplineSignal)
    result = asyncio.run(executor.run(_call(intent, 0.87))).model_dump()
    assert result["events"] == []
    [response] = result["responses"]
    assert response["custom"] == {SIGNAL_KEY: {"intent": intent, "confidence": 0.87}}
    assert not response.get("text")


def test_a_missing_confidence_is_sent_as_null() -> None:
    executor = ActionExecutor()
    executor.register_action(ActionHelplineSignal)
    [response] = asyncio.run(executor.run(_call("express_crisis", None))).responses
    assert response["custom"][SIGNAL_KEY]["confidence"] is None


def test_the_domain_declares_the_action_and_a_rule_runs_it_for_every_signal_intent() -> None:
    domain = yaml.safe_load((REPO_ROOT / "nlu/domain/handoff.yml").read_text(encoding="utf-8"))
    assert domain["actions"] == ["action_helpline_signal"]
    rules = yaml.safe_load((REPO_ROOT / "nlu/data/rules_handoff.yml").read_text(encoding="utf-8"))["rules"]
    wired = {
        rule["steps"][0]["intent"]
        for rule in rules
        if rule["steps"][1] == {"action": "action_helpline_signal"}
    }
    assert wired == set(SIGNAL_INTENTS)
