"""Blind rounds that have been measured become regression data for the lexicon (docs/evaluation.md).

Round 5 was measured first and then worked on: its crisis and emergency messages must
stay caught by the lexicon alone (crisis, or a "may be suicidal" phrase the classifier
confirms), and none of its messages not at risk may get a crisis or emergency from it.
Round 6 was measured after that; its misses are the next work, not yet asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoff.risk import RiskLevel, screen

ROUND_5 = Path(__file__).parents[1] / "data" / "blind" / "round5.yaml"
NOT_AT_RISK = ("policy", "offtopic", "none", "psych", "legal", "human")


def _texts(path: Path, *labels: str) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    conversations = [turn for conversation in data["conversations"] for turn in conversation["turns"]]
    turns = data["messages"] + conversations
    return [turn["text"] for turn in turns if turn["label"] in labels]


@pytest.mark.parametrize("text", _texts(ROUND_5, "crisis"))
def test_round_5_crisis_is_crisis_or_a_doubt_the_classifier_confirms(text: str) -> None:
    result = screen(text)
    assert result.level is RiskLevel.CRISIS or result.ambiguous, f"{text!r}: {result.level}"


@pytest.mark.parametrize("text", _texts(ROUND_5, "emergency"))
def test_round_5_emergencies_are_emergencies(text: str) -> None:
    assert screen(text).level.at_least(RiskLevel.EMERGENCY)


@pytest.mark.parametrize("text", _texts(ROUND_5, *NOT_AT_RISK))
def test_round_5_messages_not_at_risk_get_no_crisis_or_emergency_from_the_lexicon(text: str) -> None:
    assert not screen(text).level.at_least(RiskLevel.EMERGENCY), text
