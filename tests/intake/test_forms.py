"""The forms as data: which questions are asked when, and what each answer becomes."""

from __future__ import annotations

import json
from datetime import date

import pytest

from intake import consent, forms, questions
from intake.cases import CaseKind
from intake.forms import Context, validate
from knowledge.entitlement import Answer, from_record
from knowledge.yamlio import SEED_DIR, read_records
from tests.conftest import LEGAL_CONSENT, PSYCH_CONSENT

SEED = [from_record(record) for record in read_records(SEED_DIR / "entries.yaml")]
NO_WAGE = Context(today=date(2026, 11, 29), chat_retention_days=365)
WAGE = Context(today=date(2026, 11, 29), chat_retention_days=365, min_wage_yuan=2540.0)
ALL_ENTITLEMENT = [question.slot for question in forms.QUESTIONS]


def test_every_form_slot_has_a_validator() -> None:
    assert set(forms.VALIDATORS) == {slot for slots in forms.FORM_SLOTS.values() for slot in slots}


def test_a_fresh_check_asks_every_question_in_order() -> None:
    assert forms.entitlement_slots({}, SEED, NO_WAGE) == ALL_ENTITLEMENT


@pytest.mark.parametrize("slots", [{"ent_hukou": "no"}, {"ent_hukou": "yes", "ent_lost_child": "no"}])
def test_nothing_more_is_asked_once_nothing_can_apply(slots: dict) -> None:
    assert forms.entitlement_slots(slots, SEED, NO_WAGE) == list(slots)


def test_self_care_and_care_wishes_are_skipped_when_no_measure_needs_them() -> None:
    slots = {"ent_hukou": "yes", "ent_lost_child": "yes", "ent_age": "45", "ent_income": "no"}
    assert forms.entitlement_slots(slots, SEED, NO_WAGE) == [*slots, "ent_sanwu", "ent_children"]


def test_unknown_answers_keep_the_following_questions() -> None:
    slots = dict.fromkeys(("ent_hukou", "ent_lost_child", "ent_age", "ent_income"), "unknown")
    assert forms.entitlement_slots(slots, SEED, NO_WAGE) == ALL_ENTITLEMENT


def test_free_text_not_yet_validated_counts_as_not_answered() -> None:
    assert forms.entitlement_slots({"ent_hukou": "海淀"}, SEED, NO_WAGE) == ALL_ENTITLEMENT


def test_answers_become_the_engines_conditions() -> None:
    slots = {
        "ent_hukou": "yes",
        "ent_lost_child": "yes",
        "ent_age": "72",
        "ent_income": "unknown",
        "ent_self_care": "no",
        "ent_sanwu": "no",
        "ent_children": "neither",
        "ent_care": "home",
    }
    assert forms.entitlement_answers(slots, NO_WAGE) == {
        "xicheng_hukou": Answer.YES,
        "lost_only_child": Answer.YES,
        "age_60_plus": Answer.YES,
        "income_below_min_wage": Answer.UNKNOWN,
        "not_self_caring": Answer.YES,
        "sanwu": Answer.NO,
        "wish_birth": Answer.NO,
        "wish_adopt": Answer.NO,
        "wish_institution": Answer.NO,
        "wish_home_care": Answer.YES,
    }


def test_skipped_wishes_stay_unknown() -> None:
    answers = forms.entitlement_answers({"ent_children": "unknown", "ent_care": "unknown"}, NO_WAGE)
    assert set(answers.values()) == {Answer.UNKNOWN} and len(answers) == 4


@pytest.mark.parametrize(
    ("typed", "context", "stored"),
    [
        ("yes", NO_WAGE, "yes"),
        ("低于", NO_WAGE, "yes"),
        ("不到最低工资", NO_WAGE, "yes"),
        ("不低于", NO_WAGE, "no"),
        ("超过了", NO_WAGE, "no"),
        ("每人1500", WAGE, "yes"),
        ("3000元", WAGE, "no"),
        ("1500", NO_WAGE, "unknown"),  # no figure set: the street checks
        ("不知道", NO_WAGE, "unknown"),
        ("买菜", NO_WAGE, None),
    ],
)
def test_income_answers(typed: str, context: Context, stored: str | None) -> None:
    assert validate("ent_income", typed, context) == stored


@pytest.mark.parametrize(
    ("slot", "typed", "stored"),
    [
        ("ent_self_care", "卧床好几年了", "no"),
        ("ent_self_care", "能自理", "yes"),
        ("ent_children", "想领养一个", "adopt"),
        ("ent_children", "neither", "neither"),
        ("ent_care", "住养老院", "institution"),
        ("ent_age", "60+", "60+"),
        ("ent_age", "150", None),
        ("psych_way", "想参加新希望家园的活动", "new_hope"),
        ("psych_way", "随便", None),
        ("psych_call_time", "下午", "afternoon"),
        ("psych_call_time", "周末上午十点以后", "周末上午十点以后"),
        ("psych_call_time", "都可以", "anytime"),
        ("psych_call_time", "工作日10点以后", "工作日10点以后"),
        ("psych_call_time", "你好", None),
        ("psych_street", "月坛", "月坛"),
        ("psych_street", "unknown", "unknown"),
        ("psych_street", "朝阳", None),
        ("psych_phone", "unknown", "unknown"),
        ("psych_phone", "110", None),
        ("legal_matter", "非诉讼代理", "non_litigation"),
        ("legal_matter", "想打官司", "litigation"),
        ("legal_description", "邻居占了我家的房子", "邻居占了我家的房子"),
        ("legal_description", "长" * 301, None),
        ("legal_hardship", "是", "yes"),
        ("legal_hardship", "就靠退休金 日子紧巴", "yes"),
        ("legal_hardship", "没有困难 还过得去", "no"),
        ("legal_hardship", "您看着办", None),
        ("legal_mobility", "腿脚不好 出不了门", "yes"),
        ("legal_mobility", "能出门", "no"),
        ("legal_mobility", "不方便", "yes"),
        ("legal_home_visit", "好", "yes"),
        ("legal_home_visit", "那敢情好 让律师上家来吧", "yes"),
        ("legal_home_visit", "不用了 我自己能去", "no"),
        ("legal_home_visit", "再想想", "unknown"),
        ("ent_self_care", "还行 做饭洗衣服都能自己来", "yes"),
        ("ent_self_care", "得有人伺候", "no"),
        ("ent_children", "不想了 岁数大了", "neither"),
        ("ent_care", "想在自己家待着", "home"),
        ("ent_care", "不想去养老院", "home"),
        ("ent_sanwu", "行", "yes"),
    ],
)
def test_form_answers(slot: str, typed: str, stored: str | None) -> None:
    assert validate(slot, typed, NO_WAGE) == stored


def _meaning(payload: str) -> str:
    """What pressing a button stores (Rasa maps /affirm to yes, /deny to no, /skip to unknown)."""
    fixed = {questions.AFFIRM: "yes", questions.DENY: "no", questions.SKIP: "unknown"}
    return fixed.get(payload) or json.loads(payload.removeprefix("/inform"))["choice"]


_LABELLED = [
    (slot, button.title, button.payload)
    for slot in forms.VALIDATORS
    for button in questions.prompt(slot, chat_retention_days=365).buttons
    if not slot.endswith("_consent")
]


@pytest.mark.parametrize(("slot", "label", "payload"), _LABELLED)
def test_a_buttons_label_typed_out_means_what_pressing_it_does(slot: str, label: str, payload: str) -> None:
    assert validate(slot, label, NO_WAGE) == validate(slot, _meaning(payload), NO_WAGE)


@pytest.mark.parametrize("purpose", ["psych", "legal"])
@pytest.mark.parametrize(("typed", "agreed"), [("同意", True), ("不同意", False), ("行 我同意", True)])
def test_consent_typed_out(purpose: str, typed: str, agreed: bool) -> None:
    current = consent.consent_for(purpose, NO_WAGE.chat_retention_days).version
    expected = current if agreed else consent.DECLINED
    assert validate(f"{purpose}_consent", typed, NO_WAGE) == expected


@pytest.mark.parametrize("value", [None, 12, True, ["yes"], {"a": 1}])
def test_values_of_the_wrong_type_are_asked_again(value) -> None:
    assert validate("ent_hukou", value, NO_WAGE) is None


@pytest.mark.parametrize("purpose", consent.PURPOSES)
def test_consent_stores_the_version_agreed_to(purpose: str) -> None:
    slot, current = f"{purpose}_consent", consent.consent_for(purpose, 365).version
    assert validate(slot, "yes", NO_WAGE) == current
    assert validate(slot, "同意", NO_WAGE) == current
    assert validate(slot, current, NO_WAGE) == current
    assert validate(slot, "no", NO_WAGE) == consent.DECLINED
    assert validate(slot, f"{purpose}-2026-01", NO_WAGE) is None  # an older text: ask again
    assert validate(slot, consent.consent_for(purpose, 30).version, NO_WAGE) is None  # another promise
    assert validate(slot, "unknown", NO_WAGE) is None


def test_declining_psych_consent_asks_nothing_else() -> None:
    assert forms.psych_slots({"psych_consent": consent.DECLINED}) == ["psych_consent"]
    assert forms.legal_slots({"legal_consent": consent.DECLINED}) == ["legal_consent"]


def test_no_call_time_without_a_phone() -> None:
    assert "psych_call_time" not in forms.psych_slots({"psych_phone": "unknown"})
    assert "psych_call_time" in forms.psych_slots({"psych_phone": "13812345678"})


@pytest.mark.parametrize(
    ("hardship", "mobility", "asked", "visit"),
    [
        ("yes", "yes", "yes", True),
        ("yes", "yes", "no", False),
        ("yes", "no", None, False),
        ("unknown", "yes", None, False),
    ],
)
def test_home_visit_needs_hardship_mobility_and_the_persons_request(
    hardship: str, mobility: str, asked: str | None, visit: bool
) -> None:
    slots = {"legal_hardship": hardship, "legal_mobility": mobility, "legal_home_visit": asked}
    assert ("legal_home_visit" in forms.legal_slots(slots)) == (hardship == mobility == "yes")
    assert forms.wants_home_visit(slots) is visit


def test_every_legal_case_has_priority_and_skipped_answers_are_not_stored_as_data() -> None:
    slots = {
        "legal_consent": LEGAL_CONSENT.version,
        "legal_matter": "consult",
        "legal_description": "unknown",
        "legal_hardship": "yes",
        "legal_mobility": "yes",
        "legal_home_visit": "yes",
        "legal_phone": "unknown",
        "legal_street": "牛街",
    }
    new = forms.legal_case("me", slots)
    assert new.kind is CaseKind.LEGAL and new.priority and new.home_visit
    assert new.phone is None and new.street == "牛街" and new.consent_version == LEGAL_CONSENT.version


def test_psych_case() -> None:
    slots = {
        "psych_consent": PSYCH_CONSENT.version,
        "psych_way": "peer",
        "psych_phone": "010-82951332",
        "psych_call_time": "evening",
        "psych_street": "unknown",
    }
    new = forms.psych_case("me", slots)
    assert (new.kind, new.phone, new.street, new.priority) == (CaseKind.PSYCH, "010-82951332", None, False)
    assert new.details == {"way": "peer", "call_time": "evening"}


@pytest.mark.parametrize(
    "text",
    [
        "那我申请一个 孩子的抚恤金让单位扣着不给",
        "房东要赶我走，我想找法律援助",
        "我想申请法律援助 儿子生前单位的赔偿款一直拖着不给",
    ],
)
def test_a_request_that_tells_the_matter_is_its_description(text: str) -> None:
    assert forms.matter_told(text) == text


@pytest.mark.parametrize("text", ["我想申请法律援助", "给我找个律师", "我需要法律援助", "能帮我申请一下吗"])
def test_a_bare_request_tells_no_matter(text: str) -> None:
    assert forms.matter_told(text) is None
