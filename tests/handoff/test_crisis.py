"""The crisis words: composed from the help lines, right number per emergency, never without lines."""

from __future__ import annotations

import pytest

from handoff import crisis, texts
from knowledge.directory import HelpLineInfo

LINES = crisis.fallback_lines()


def test_lines_text_lists_the_talk_lines_with_hours_and_the_danger_numbers() -> None:
    text = crisis.lines_text(texts.CRISIS_LINES_INTRO, LINES)
    rows = text.splitlines()
    assert rows[0] == texts.CRISIS_LINES_INTRO
    assert rows[1] == "· 北京心理危机研究与干预中心 010-82951332（24小时）"
    assert rows[2] == "· 希望24热线 400-161-9995（24小时）"
    assert rows[3].startswith("· 全国心理援助热线 12356（每天至少18小时")
    assert rows[-1] == "如果有立即的危险，请马上拨打 120 或 110。"
    assert not any(row.startswith("· 火警") for row in rows), "119 is not a line to talk to"


def test_with_only_emergency_numbers_in_the_directory_the_default_talk_lines_are_given() -> None:
    only_120 = [HelpLineInfo("e", "急救", "120", "24小时", "", 1)]
    assert "010-82951332" in crisis.lines_text("", only_120)


@pytest.mark.parametrize(
    ("categories", "numbers"),
    [
        (["medical"], ["120"]),
        (["fall"], ["120"]),
        (["fire_gas"], ["119"]),
        (["violence"], ["110"]),
        (["missing_person"], ["110"]),
        (["fire_gas", "medical", "fall"], ["119", "120"]),
        ([], ["120", "110"]),
        (["report_emergency"], ["120", "110"]),
    ],
)
def test_each_emergency_gets_its_number(categories: list[str], numbers: list[str]) -> None:
    replies = crisis.emergency_reply(LINES, categories, "您排在第 1 位")
    calls = [r.text.split("拨打 ")[1].split("（")[0] for r in replies[:-1]]
    assert calls == numbers
    assert replies[-1].text == texts.EMERGENCY_QUEUED.format(place="您排在第 1 位")


def test_an_unreadable_seed_still_gives_the_lines_from_the_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(_path: object) -> list[dict]:
        raise OSError("disk error")

    monkeypatch.setattr(crisis, "read_records", unreadable)
    numbers = [line.number for line in crisis.fallback_lines()]
    assert numbers[:3] == ["010-82951332", "400-161-9995", "12356"]


def test_the_direct_question_offers_yes_no_and_a_person_and_gives_the_lines() -> None:
    question, lines = crisis.safety_question(crisis.fallback_lines())
    assert question.text == texts.SAFETY_QUESTION
    assert [c.payload for c in question.buttons] == [texts.ANSWER_YES, texts.ANSWER_NO, texts.HANDOFF_PHRASE]
    assert lines.text.startswith(texts.SAFETY_LINES_INTRO)
    assert "010-82951332" in lines.text and "120" in lines.text
    warm, offer = crisis.distress_reply()
    assert warm.text == texts.DISTRESS
    assert offer.buttons[0].payload == texts.HANDOFF_PHRASE


def test_place_rounds_minutes_up_and_never_says_zero() -> None:
    assert crisis.place(2, 7.2) == "您排在第 2 位，大约 8 分钟内会有人来"
    assert crisis.place(1, 0) == "您排在第 1 位，大约 1 分钟内会有人来"


def test_no_wait_in_hours_and_none_at_all_for_a_crisis_or_an_emergency() -> None:
    assert crisis.place(140, 700) == "您排在第 140 位，工作人员会尽快来"
    assert crisis.place(3, 15, urgent=True) == texts.PLACE_URGENT
    assert "分钟" not in crisis.place(1, 2, urgent=True)


def test_nobody_on_duty_means_no_promise_only_that_we_are_reaching_someone() -> None:
    assert crisis.place(1, None, urgent=True) == texts.PLACE_URGENT_NOBODY == "正在为您联系工作人员"
    calm = crisis.place(3, None)
    assert "第 3 位" in calm and "分钟" not in calm and "没有工作人员在线" in calm
