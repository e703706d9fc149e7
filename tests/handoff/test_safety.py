"""Combining signals (recall wins), reading the answer to the direct question, asking for a person."""

from __future__ import annotations

import asyncio
import threading

import pytest

from handoff.risk import RiskAssessment, RiskLevel, RiskSignal
from handoff.safety import (
    LEXICON,
    SCREEN_FAULT,
    Answer,
    LexiconSource,
    SafetyNet,
    Verdict,
    asks_for_human,
    combine,
    confirmed_by,
    from_intent,
    read_answer,
    withdraws_request,
)


def _verdict(level: RiskLevel, ambiguous: bool = False) -> Verdict:
    return Verdict(level, (), ambiguous)


def test_the_highest_level_wins() -> None:
    assert combine([_verdict(RiskLevel.DISTRESS), _verdict(RiskLevel.CRISIS)]).level is RiskLevel.CRISIS
    assert combine([]).level is RiskLevel.NONE


def test_ambiguous_only_survives_when_nothing_stronger_was_found() -> None:
    assert combine([_verdict(RiskLevel.DISTRESS, ambiguous=True), _verdict(RiskLevel.NONE)]).ambiguous
    assert not combine([_verdict(RiskLevel.DISTRESS, ambiguous=True), _verdict(RiskLevel.CRISIS)]).ambiguous


def test_a_weaker_sources_doubt_waits_for_confirmation_like_its_crisis() -> None:
    """The classifier's ask band gets the answer first and the question after, as its crisis does."""
    doubt = _verdict(RiskLevel.DISTRESS, ambiguous=True)
    for alarm in (doubt, _verdict(RiskLevel.CRISIS)):
        weighed = confirmed_by(_verdict(RiskLevel.NONE), alarm)
        assert (weighed.level, weighed.unconfirmed) == (RiskLevel.DISTRESS, RiskLevel.CRISIS)
    cleared = Verdict(RiskLevel.NONE, (), cleared=True)
    assert confirmed_by(cleared, doubt).level is RiskLevel.NONE, "累死了: a harmless figure of speech"
    lexicon_doubt = _verdict(RiskLevel.DISTRESS, ambiguous=True)
    assert confirmed_by(lexicon_doubt, doubt) == doubt, "the lexicon's doubt confirms"
    assert confirmed_by(_verdict(RiskLevel.NONE), _verdict(RiskLevel.DISTRESS)).unconfirmed is None


def test_a_plugged_in_source_is_run_and_its_signals_are_kept_with_its_name() -> None:
    class Classifier:
        name = "classifier"

        def assess(self, text: str) -> RiskAssessment:
            signal = RiskSignal(RiskLevel.EMERGENCY, "medical", "p=0.91", text)
            return RiskAssessment(RiskLevel.EMERGENCY, (signal,))

    net = SafetyNet()
    net.add_source(Classifier())
    alone = net.assess("我头晕得厉害")
    assert alone.level is RiskLevel.NONE, "an emergency needs the lexicon's evidence"
    assert [s.source for s in alone.signals] == ["classifier"], "kept for the counselor's summary"
    verdict = net.assess("我天天哭，胸口疼得厉害")
    assert verdict.level is RiskLevel.EMERGENCY
    sources = {s.source for s in verdict.signals if s.signal.level is RiskLevel.EMERGENCY}
    assert sources == {"lexicon", "classifier"}
    assert set(verdict.categories) == {"medical"}


def test_rasa_intents_map_to_levels_and_request_human_is_kept_without_one() -> None:
    assert from_intent("express_crisis", "x").level is RiskLevel.CRISIS
    assert from_intent("report_emergency", "x").level is RiskLevel.EMERGENCY
    human = from_intent("request_human", "x")
    assert human.level is RiskLevel.NONE and human.signals[0].signal.category == "request_human"
    assert from_intent("greet", "x").signals == ()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("是", Answer.YES),
        ("是的", Answer.YES),
        ("有", Answer.YES),
        ("有过", Answer.YES),
        ("嗯嗯", Answer.YES),
        ("想过", Answer.YES),
        ("偶尔会", Answer.YES),
        ("没有", Answer.NO),
        ("没有。", Answer.NO),
        ("没", Answer.NO),
        ("不是", Answer.NO),
        ("不会的，放心", Answer.NO),
        ("还好", Answer.NO),
        ("补贴什么时候发", Answer.UNCLEAR),
        ("", Answer.UNCLEAR),
    ],
)
def test_answers_to_the_direct_question(text: str, answer: Answer) -> None:
    assert read_answer(text) is answer


@pytest.mark.parametrize("text", ["人工", "转人工", "转人工！", " 人 工 ", "人工客服", "找真人", "轉人工"])
def test_asking_for_a_person(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["人工费多少", "我想问问人工服务的补贴", "", "人", "我想找个心理老师聊聊", "找个咨询师谈谈"]
)
def test_mentioning_the_word_is_not_asking(text: str) -> None:
    assert not asks_for_human(text)


class _BrokenLexicon:
    name = LEXICON

    def assess(self, text: str) -> RiskAssessment:
        raise RuntimeError("lexicon failed to compile")


class _StuckLexicon:
    """A lexicon screen that does not finish until released."""

    name = LEXICON

    def __init__(self) -> None:
        self.release = threading.Event()

    def assess(self, text: str) -> RiskAssessment:
        self.release.wait(5)
        return RiskAssessment(RiskLevel.NONE)


def _failed_safe(verdict: Verdict) -> bool:
    categories = {sourced.signal.category for sourced in verdict.signals}
    return verdict.level is RiskLevel.DISTRESS and verdict.ambiguous and SCREEN_FAULT in categories


def test_a_failing_lexicon_fails_safe_never_silent() -> None:
    assert _failed_safe(SafetyNet([_BrokenLexicon()]).assess("今天天气不错"))


def test_a_lexicon_past_its_deadline_fails_safe_and_the_next_message_is_screened() -> None:
    stuck = _StuckLexicon()
    net = SafetyNet([stuck], workers=2)
    try:
        assert _failed_safe(asyncio.run(net.assess_soon("随便说点什么", deadline=0.05)))
    finally:
        stuck.release.set()
    assert asyncio.run(SafetyNet().assess_soon("我不想活了", deadline=1.0)).level is RiskLevel.CRISIS
    net.close()


def test_assess_soon_for_the_lexicon_only_never_runs_the_other_sources() -> None:
    class Counting:
        name = "classifier"
        calls = 0

        def assess(self, text: str) -> RiskAssessment:
            Counting.calls += 1
            return RiskAssessment(RiskLevel.NONE)

    net = SafetyNet()
    net.add_source(Counting())
    assert asyncio.run(net.assess_soon("我不想活了", 1.0, lexicon_only=True)).level is RiskLevel.CRISIS
    assert asyncio.run(net.assess_soon("你好", 1.0, lexicon_only=True)).level is RiskLevel.NONE
    assert Counting.calls == 0
    asyncio.run(net.assess_soon("你好", 1.0))
    assert Counting.calls == 1


def test_assess_soon_stops_at_a_crisis_and_skips_a_failing_classifier() -> None:
    class Broken:
        name = "classifier"

        def assess(self, text: str) -> RiskAssessment:
            raise RuntimeError("model not loaded")

    net = SafetyNet([LexiconSource(), Broken()])
    assert asyncio.run(net.assess_soon("我不想活了", deadline=1.0)).level is RiskLevel.CRISIS
    assert asyncio.run(net.assess_soon("今天天气不错", deadline=1.0)).level is RiskLevel.NONE
    net.close()


@pytest.mark.parametrize(
    "text", ["人工", " 转 人工！", "那还是找个人跟我说吧", "我想跟真人说话", "别让机器跟我说了 给我找个人"]
)
def test_requests_for_a_person_in_everyday_words(text: str) -> None:
    assert asks_for_human(text)


@pytest.mark.parametrize("text", ["人工服务怎么收费", "找个人陪我去医院", "人工费贵不贵"])
def test_sentences_that_only_mention_a_person_are_not_requests(text: str) -> None:
    assert not asks_for_human(text)


def test_withdrawing_a_request() -> None:
    assert withdraws_request("不用了 我自己去街道问问") and withdraws_request("我没事了")
    assert not withdraws_request("不行 我等不了了")
