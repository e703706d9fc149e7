"""The staff's list of mistyped words, and how the knowledge base reads through them."""

from __future__ import annotations

import pytest

from knowledge.spelling import Speller, default_speller


def test_the_list_loads_and_corrects_a_voice_input_slip() -> None:
    speller = default_speller()
    assert speller.corrected("听说有个心里资询热线 是不收钱的吗") == "听说有个心理咨询热线 是不收钱的吗"
    assert speller.corrected("那免费题检我能做不") == "那免费体检我能做不"


def test_text_without_a_listed_slip_is_unchanged() -> None:
    text = "我心里难受 想找人说说话"
    assert default_speller().corrected(text) == text


def test_the_longest_slip_wins_where_two_overlap() -> None:
    speller = Speller({"心里资询": "心理咨询", "资询热线": "咨询热线"})
    assert speller.corrected("心里资询热线") == "心理咨询热线"


@pytest.mark.parametrize(
    ("misspellings", "problem"),
    [
        ({"": "体检"}, "empty"),
        ({"体检": "体检"}, "itself"),
        ({"题检": "体检", "体检": "查体"}, "changed again"),
    ],
)
def test_a_list_that_would_garble_text_is_refused(misspellings: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Speller(misspellings)
