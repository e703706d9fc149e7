"""Blind rounds that have been measured become regression data for the lexicon (docs/evaluation.md).

Round 5 was measured first and then worked on: its crisis messages must stay caught by
the lexicon alone (crisis, or a "may be suicidal" phrase the classifier confirms). Every
round's single-message emergencies must stay emergencies, and the messages not at risk of
the rounds whose false alarms were worked on (all but round 6) may get no crisis or
emergency from the lexicon. Crisis recall on rounds 6-11 is the classifier's job now.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoff.evaluate_risk import BLIND_ROUNDS_DIR
from handoff.risk import RiskLevel, screen

NOT_AT_RISK = ("policy", "offtopic", "none", "psych", "legal", "human")
FALSE_ALARMS_WORKED_ON = (5, 7, 8, 9, 10, 11)
KEPT_AS_EMERGENCY = {
    # Chest pain "last week" reads like chest pain that came back: a guard on the time word
    # would also lower 上礼拜心口疼 现在又疼了. A needless 120 costs less than a missed one.
    "上礼拜半夜我心口疼 打了120",
}


def _round(number: int) -> Path:
    return BLIND_ROUNDS_DIR / f"round{number}.yaml"


def _texts(path: Path, *labels: str, conversations: bool = True) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    turns = list(data["messages"])
    if conversations:
        turns += [turn for conversation in data["conversations"] for turn in conversation["turns"]]
    return [turn["text"] for turn in turns if turn["label"] in labels]


@pytest.mark.parametrize("text", _texts(_round(5), "crisis"))
def test_round_5_crisis_is_crisis_or_a_doubt_the_classifier_confirms(text: str) -> None:
    result = screen(text)
    assert result.level is RiskLevel.CRISIS or result.ambiguous, f"{text!r}: {result.level}"


@pytest.mark.parametrize(
    "text",
    [
        text
        for path in sorted(BLIND_ROUNDS_DIR.glob("round*.yaml"))
        for text in _texts(path, "emergency", conversations=False)
    ],
)
def test_emergencies_are_emergencies(text: str) -> None:
    assert screen(text).level.at_least(RiskLevel.EMERGENCY), text


@pytest.mark.parametrize(
    "text",
    [
        text
        for number in FALSE_ALARMS_WORKED_ON
        for text in _texts(_round(number), *NOT_AT_RISK)
        if text not in KEPT_AS_EMERGENCY
    ],
)
def test_messages_not_at_risk_get_no_crisis_or_emergency_from_the_lexicon(text: str) -> None:
    assert not screen(text).level.at_least(RiskLevel.EMERGENCY), text
