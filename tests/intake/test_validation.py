"""Reading what families type: phone numbers, ages, streets, yes/no and choices."""

from __future__ import annotations

from datetime import date

import pytest

from intake.streets import STREETS
from intake.validation import (
    accepts,
    age_answer,
    chinese_number,
    clean_text,
    parse_age,
    parse_choice,
    parse_phone,
    parse_street,
    parse_yes_no,
)
from knowledge.entitlement import Answer

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("我的电话是13912345678", "13912345678"),
        ("下午3点打13812345678", "13812345678"),
        ("010-82951332", "010-82951332"),
        ("(010)82951332", "010-82951332"),
        ("（０１０）８２９５１３３２", "010-82951332"),
        ("82951332", "010-82951332"),
    ],
)
def test_valid_phone_numbers_are_stored_in_one_form(typed: str, stored: str) -> None:
    assert parse_phone(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc",
        "12812345678",  # no mobile starts 12
        "1381234567",  # ten digits
        "138123456789",  # twelve digits
        "010-8295133",  # seven-digit landline
        "02182951332",  # Shanghai, not Beijing
        "02951332",  # Beijing numbers do not start with 0
        "13812345678 13912345678",  # two numbers: ask for one
        "<b>电话</b>",
        "'; DROP TABLE cases; --",
        "😊😊",
    ],
)
def test_bad_phone_numbers_are_refused(typed: str) -> None:
    assert parse_phone(typed) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("68", "68"),
        ("６８", "68"),
        ("68岁", "68"),
        ("我今年68了", "68"),
        ("六十八", "68"),
        ("七十多", "70"),
        ("一百零二", "102"),
        ("不到60", "<60"),
        ("不到70", "unknown"),
        ("60岁及以上", "60+"),
        ("快七十了", "69"),
        ("1950年生的", "76"),
        ("50年的", "76"),
        ("1966年出生", "unknown"),  # 60 this year: 年满60周岁 depends on the birthday
    ],
)
def test_ages(typed: str, stored: str) -> None:
    assert parse_age(typed, TODAY) == stored


@pytest.mark.parametrize("typed", ["0", "5", "-5", "17", "121", "200", "abc", "", "三无", "2020年"])
def test_impossible_ages_are_refused(typed: str) -> None:
    assert parse_age(typed, TODAY) is None


@pytest.mark.parametrize(
    ("stored", "answer"),
    [
        ("60", Answer.YES),
        ("59", Answer.NO),
        ("60+", Answer.YES),
        ("<60", Answer.NO),
        ("unknown", Answer.UNKNOWN),
    ],
)
def test_age_answer_is_about_60(stored: str, answer: Answer) -> None:
    assert age_answer(stored) is answer


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("十", "十二", "二十", "两百", "六十八", "六x")] == [
        10,
        12,
        20,
        200,
        68,
        None,
    ]


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("是西城户口", Answer.YES),
        ("对", Answer.YES),
        ("有", Answer.YES),
        ("不是", Answer.NO),
        ("没有", Answer.NO),
        ("不知道", Answer.UNKNOWN),
        ("这个我不太清楚", Answer.UNKNOWN),
        ("跳过", Answer.UNKNOWN),
        ("海淀", None),
        ("", None),
    ],
)
def test_typed_yes_no(typed: str, answer: Answer | None) -> None:
    assert parse_yes_no(typed) is answer


@pytest.mark.parametrize("street", STREETS)
def test_every_street_is_recognised_alone_and_in_a_sentence(street: str) -> None:
    assert parse_street(street) == street
    assert parse_street(f"我住在{street}街道那边") == street


def test_fifteen_streets() -> None:
    assert len(STREETS) == 15 == len(set(STREETS))


@pytest.mark.parametrize("typed", ["海淀", "广安门", "德胜和月坛", ""])
def test_unknown_or_ambiguous_streets_are_refused(typed: str) -> None:
    assert parse_street(typed) is None


def test_choice_ignores_words_inside_longer_ones_and_refuses_two_options() -> None:
    options = {"litigation": ("诉讼", "打官司"), "non_litigation": ("非诉讼", "调解")}
    assert parse_choice("非诉讼代理", options) == "non_litigation"
    assert parse_choice("想打官司", options) == "litigation"
    assert parse_choice("打官司还是调解", options) is None
    assert parse_choice("随便", options) is None


def test_clean_text_keeps_words_and_refuses_empty_long_or_payloads() -> None:
    assert clean_text("  房子  被占了\x00 ", 20) == "房子 被占了"
    assert clean_text("   ", 20) is None
    assert clean_text("长" * 21, 20) is None
    assert clean_text('/inform{"choice":"x"}', 50) is None


@pytest.mark.parametrize(
    "text", ["行", "好啊 那您让人给我打个电话吧", "行 那您给我申请一个", "可以", "嗯", "想", "要 麻烦您了"]
)
def test_everyday_yes_to_an_offer(text: str) -> None:
    assert accepts(text) is True


@pytest.mark.parametrize("text", ["不用了", "好的 不用了谢谢", "算了吧", "先不了"])
def test_everyday_no_to_an_offer(text: str) -> None:
    assert accepts(text) is False


@pytest.mark.parametrize(
    "text",
    [
        "体检在哪做",
        "有时候觉得熬不下去",
        "想起孩子小时候的事儿了",
        "要钱不",
        "要花钱吗",
        "要多少钱",
        "有啥条件",
    ],
)
def test_something_else_is_neither(text: str) -> None:
    assert accepts(text) is None
