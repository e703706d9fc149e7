"""The lexicon's matching engine: RE2 patterns, their context conditions, and bounded work.

The screen runs on every family message before anything else, so no lexicon entry
and no message may make it slow: patterns run on RE2 (linear-time by construction),
the old engine's lookarounds are ``not_before`` / ``not_after`` / ``unless``
conditions, and a phrase repeated thousands of times is matched a bounded number of
times. The fuzz tests here repeat every entry's own pieces, the kind of input that
made the old backtracking engine take seconds to days.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff.lexicon_check import REPEAT_CHARS, crafted_message, entries, entry_pieces, slow_entries
from handoff.risk import MAX_HITS_PER_ENTRY, Lexicon, RiskLevel, default_lexicon, screen

DEADLINE = 1.0
"""The gateway's default screen deadline (HELPLINE_SCREEN_DEADLINE): no message may need more."""


def _lexicon(**sections: object) -> Lexicon:
    return Lexicon({"version": 1, **sections})


def _crisis(*patterns: object) -> Lexicon:
    return _lexicon(crisis={"test": {"patterns": list(patterns)}})


# --- conditions -----------------------------------------------------------------------


def test_not_before_and_not_after_look_right_outside_the_match() -> None:
    lexicon = _crisis({"pattern": "人(也)?没了", "not_before": ["老", "病"], "not_after": ["耐心"]})
    assert screen("我这人也没了", lexicon).level is RiskLevel.CRISIS
    assert screen("老人没了", lexicon).level is RiskLevel.NONE
    assert screen("病人没了", lexicon).level is RiskLevel.NONE
    assert screen("人没了耐心", lexicon).level is RiskLevel.NONE
    assert screen("人没了，耐心", lexicon).level is RiskLevel.NONE  # punctuation is gone before matching


def test_unless_looks_inside_the_match() -> None:
    lexicon = _crisis({"pattern": "不麻烦你们了.{0,4}再见", "unless": ["了(我)?自己"]})
    assert screen("以后不麻烦你们了 再见", lexicon).level is RiskLevel.CRISIS
    assert screen("以后不麻烦你们了我自己办 再见", lexicon).level is RiskLevel.NONE


def test_conditions_are_normalised_like_terms() -> None:
    lexicon = _crisis({"pattern": "死", "not_before": ["孩子"]})
    assert screen("孩 子死了三年了", lexicon).level is RiskLevel.NONE
    assert screen("我想死", lexicon).level is RiskLevel.CRISIS


def test_a_guard_with_conditions_lowers_only_where_they_hold() -> None:
    lexicon = _lexicon(
        crisis={"test": {"patterns": ["得(要)?死"]}},
        guards=[{"pattern": "得(要)?死", "not_before": ["想"], "to": "none"}],
    )
    assert screen("累得要死", lexicon).level is RiskLevel.NONE
    assert screen("想得要死", lexicon).level is RiskLevel.CRISIS


@pytest.mark.parametrize(
    "pattern",
    [
        "(?<!孩子)死",  # lookbehind
        "死(?!机)",  # lookahead
        r"(想)\1",  # backreference
    ],
)
def test_patterns_re2_cannot_run_in_linear_time_are_refused_with_the_way_out(pattern: str) -> None:
    with pytest.raises(ValueError, match="not_before / not_after / unless"):
        _crisis(pattern)


@pytest.mark.parametrize(
    "entry",
    [
        {"pattern": "死", "not_befor": ["孩子"]},  # a misspelt key must not be ignored
        {"not_before": ["孩子"]},
        {"pattern": "死", "not_before": "孩子"},  # a string, not a list of words
        {"pattern": "死", "not_after": ["，"]},  # nothing left after normalising
    ],
)
def test_malformed_pattern_entries_are_refused(entry: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _crisis(entry)


def test_every_pattern_of_the_maintained_lexicon_runs_on_re2() -> None:
    lexicon = default_lexicon()
    matchers = [rule.matcher for rule in lexicon.rules] + [guard.matcher for guard in lexicon.guards]
    patterns = [matcher for matcher in matchers if matcher.literal is None]
    assert len(patterns) > 250
    assert {type(matcher.regex).__module__ for matcher in patterns} == {"re2"}


# --- bounded work ---------------------------------------------------------------------


def test_every_entry_finishes_fast_on_long_repeats_of_its_own_pieces() -> None:
    slow = list(slow_entries(default_lexicon(), limit=DEADLINE))
    assert slow == [], f"entries slower than the deadline on {REPEAT_CHARS} crafted characters: {slow}"


def test_the_crafted_message_repeats_an_entrys_own_words() -> None:
    assert crafted_message("(孩子|儿子)(也|也算)*解脱", 12) == "孩子儿子也也算解脱孩子儿"


@pytest.mark.parametrize(
    "text",
    [
        "孩子" + "也算" * 26 + "啊",  # 8 s on the backtracking engine
        "孩子" + "也算" * 40_000 + "啊",
        "把药" + "全都" * 40_000 + "吃",
        "走的时候" + "算是也算" * 20_000,
        "想死" * 50_000,
        "想死去的孩子" * 15_000 + "我想死",
    ],
)
def test_pathological_repeats_finish_within_the_deadline(text: str) -> None:
    started = time.perf_counter()
    screen(text)
    assert time.perf_counter() - started < DEADLINE


def test_a_crisis_phrase_repeated_past_the_cap_asks_directly_rather_than_pass() -> None:
    text = "想死去的孩子" * (MAX_HITS_PER_ENTRY + 10) + "我想死"
    result = screen(text)
    assert result.level is RiskLevel.DISTRESS and result.ambiguous
    assert "repeated_phrase" in {signal.category for signal in result.signals}
    assert screen("我想死" * (MAX_HITS_PER_ENTRY + 10)).level is RiskLevel.CRISIS


LEXICON_CHARACTERS = sorted(set("".join(entry_pieces("".join(entries(default_lexicon()))))) | set(" ，。!"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(LEXICON_CHARACTERS), max_size=400))
def test_any_mix_of_lexicon_characters_is_screened_quickly(text: str) -> None:
    started = time.perf_counter()
    result = screen(text)
    assert result.level in set(RiskLevel)
    assert time.perf_counter() - started < DEADLINE


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_at_all_is_screened(text: str) -> None:
    assert screen(text).level in set(RiskLevel)
