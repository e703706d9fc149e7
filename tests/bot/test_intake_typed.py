"""Every intake completed by typing only, in everyday words, through the REST webhook and a real Rasa.

Many of our families type rather than press buttons: a button's label typed out, a yes or
no in their own words, a fact told in a sentence. No message here is a button payload.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from intake import cases
from tests.bot.test_intake_flows import Family

pytestmark = pytest.mark.integration


def _typing(gateway: TestClient, name: str) -> Family:
    return Family(gateway, f"typed-{name}")


def _no_alarm(family: Family, typed: str) -> None:
    """A form answer is never a crisis or an emergency reply, and opens no ticket."""
    alarmed = "120" in family.text or "想伤害自己" in family.text or family.handoff is not None
    assert not alarmed, f"after {typed!r}: {family.text!r}"


def _answers(family: Family, steps: list[tuple[str, str]]) -> None:
    """Each typed answer, and words the next question (or the result) must contain."""
    for typed, expected in steps:
        family.says(typed)
        _no_alarm(family, typed)
        assert expected in family.text, f"after {typed!r}: {family.text!r}"


def test_legal_aid_typed_in_everyday_words_ends_in_a_priority_home_visit_case(gateway: TestClient) -> None:
    family = _typing(gateway, "legal").says("我想申请个法律援助")
    assert "同意" in family.text
    _answers(
        family,
        [
            ("行 我同意", "哪方面的法律帮助"),
            ("想打官司", "简单说说"),
            ("儿子走了以后他单位该给的赔偿一直拖着不给", "经济上有困难"),
            ("就靠退休金 日子紧巴", "出门"),
            ("腿脚不好 出不了门", "上门服务"),
            ("那敢情好 让律师上家来吧", "电话"),
            ("我手机13812345678", "哪个街道"),
            ("我住牛街那边", "登记好了"),
        ],
    )
    (case,) = family.cases()
    assert case.number in family.text and case.department == "justice"
    assert case.details["matter"] == "litigation" and case.home_visit and case.street == "牛街"
    assert case.phone == "13812345678"


def test_psych_support_typed_in_everyday_words_ends_in_a_case(gateway: TestClient) -> None:
    family = _typing(gateway, "psych").says("我想找个心理老师聊聊 给我登记一个吧")
    assert "同意" in family.text
    _answers(
        family,
        [
            ("可以 同意", "哪种关爱方式"),
            ("打电话聊就行", "电话"),
            ("一三九一二三四五六七八 不对 是13912345678", "什么时候"),
            ("下午三点以后吧", "哪个街道"),
            ("德胜门那片儿", "登记好了"),
        ],
    )
    (case,) = family.cases()
    assert case.number in family.text and case.kind == cases.CaseKind.PSYCH
    assert case.details["way"] == "hotline" and case.street == "德胜" and case.phone == "13912345678"


def test_entitlement_check_typed_in_everyday_words_ends_in_a_result(gateway: TestClient) -> None:
    family = _typing(gateway, "entitlement").says("帮我看看我都能享受些啥")
    assert "户口在北京市西城区吗" in family.text
    _answers(
        family,
        [
            ("是 一直是西城的户口", "没有再生育"),
            ("对 就那一个孩子 没了以后也没再要", "多大岁数"),
            ("七十三了", "最低工资标准"),
            ("这个我真不清楚", "自理"),
            ("还行 做饭洗衣服都能自己来", "三无"),
            ("不是 我有退休金", "再要孩子"),
            ("不想了 岁数大了", "养老院"),
            ("想在自己家待着", "很可能可以享受"),
        ],
    )
    assert "每年一次免费体检（三（四）1）" in family.text


def test_a_crisis_typed_inside_a_form_still_gets_the_crisis_reply_at_once(gateway: TestClient) -> None:
    family = _typing(gateway, "crisis").says("我想申请个法律援助").says("同意")
    family.says("官司打不打都没用了 我准备好药了 今晚就去找我儿子")
    assert family.handoff is not None and family.handoff["priority"] == "crisis"
    assert "010-82951332" in family.text


def test_a_legal_matter_told_with_the_request_is_not_asked_again(gateway: TestClient) -> None:
    told = "那我申请一个法律援助 孩子的抚恤金让单位扣着不给"
    family = _typing(gateway, "legal-told").says(told)
    assert "记下了" in family.text and "同意" in family.text
    _answers(family, [("同意", "哪方面的法律帮助"), ("不清楚", "经济上有困难")])
    assert "简单说说" not in family.text
