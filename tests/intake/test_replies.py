"""What families are told: entitlement results, confirmations, declines, status, cancel and pause."""

from __future__ import annotations

from datetime import UTC, datetime

from intake import forms, replies
from intake.cases import Case
from knowledge.directory import DepartmentInfo, HelpLineInfo
from knowledge.entitlement import Answer, assess, from_record
from knowledge.yamlio import SEED_DIR, read_records

SEED = [from_record(record) for record in read_records(SEED_DIR / "entries.yaml")]
DEPARTMENTS = [
    DepartmentInfo(id, name, "", None, None, None)
    for id, name in [
        ("street_office", "各街道办事处"),
        ("population_family_planning", "区人口计生委"),
        ("health", "区卫生局"),
        ("civil_affairs", "区民政局"),
        ("justice", "区司法局"),
    ]
]
NAMES = replies.department_names(DEPARTMENTS)
Y, N = Answer.YES, Answer.NO


def _case(**fields) -> Case:
    defaults = {
        "id": 123,
        "kind": "psych",
        "status": "new",
        "department": "civil_affairs",
        "street": "德胜",
        "phone": "13812345678",
        "home_visit": False,
        "created_at": datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
    }
    return Case(**{**defaults, **fields})


def test_likely_measures_come_with_clause_department_and_next_step() -> None:
    result = assess({"xicheng_hukou": Y, "lost_only_child": Y, "age_60_plus": Y}, SEED)
    text = "\n".join(replies.entitlement_messages(result, NAMES, None))
    assert "每年一次免费体检（三（四）1）" in text
    assert "找区卫生局：向区卫生局询问今年免费体检的安排。" in text
    assert "找所在街道办事处" in text and "各街道办事处" not in text


def test_every_result_ends_with_the_departments_final_say() -> None:
    for answers in ({}, {"xicheng_hukou": N}, {"xicheng_hukou": Y, "lost_only_child": Y}):
        messages = replies.entitlement_messages(assess(answers, SEED), NAMES, None)
        assert messages[-1] == replies.FINAL_DECISION and "部门审核决定" in messages[-1]


def test_not_from_xicheng_is_one_reason_not_twenty_one_lines() -> None:
    messages = replies.entitlement_messages(assess({"xicheng_hukou": N}, SEED), NAMES, None)
    not_applicable = [m for m in messages if "暂时不适用" in m]
    assert len(not_applicable) == 1
    assert not_applicable[0].count("• 要看“有北京市西城区户籍”") == 1


def test_checks_name_who_verifies_and_the_min_wage_once_staff_set_it() -> None:
    result = assess({"xicheng_hukou": Y, "lost_only_child": Y, "income_below_min_wage": Y}, SEED)
    without = "\n".join(replies.entitlement_messages(result, NAMES, None))
    expected = "所在街道办事处核查家庭经济状况，区人口计生委核实审批经济救助"
    assert f"家庭月人均收入低于北京市最低工资标准：{expected}" in without
    assert "最低工资标准目前是" not in without
    with_figure = "\n".join(replies.entitlement_messages(result, NAMES, "2540 元/月"))
    assert "北京市最低工资标准目前是 2540 元/月" in with_figure


def test_long_lists_are_split_into_readable_messages() -> None:
    everything = {key: Y for entry in SEED for key in entry.conditions}
    messages = replies.entitlement_messages(assess(everything, SEED), NAMES, None)
    likely = [m for m in messages if m.count("• ") and "找" in m]
    assert len(likely) == 4  # 21 measures, 6 per message
    assert all(m.count("• ") <= replies.ITEMS_PER_MESSAGE for m in likely)


def test_confirmation_gives_the_number_who_acts_and_a_masked_phone() -> None:
    text = replies.case_confirmation(_case(), NAMES)
    assert "XC-2026-000123" in text and "区民政局和德胜街道办事处" in text
    assert "138****5678" in text and "13812345678" not in text


def test_confirmation_names_no_street_office_when_the_family_named_no_street() -> None:
    text = replies.case_confirmation(_case(street=None), NAMES)
    assert "区民政局的工作人员" in text and "街道" not in text


def test_legal_confirmation_says_priority_and_home_visit() -> None:
    case = _case(kind="legal", department="justice", home_visit=True, phone=None)
    text = replies.case_confirmation(case, NAMES)
    assert "优先办理" in text and "主动上门法律援助" in text and "在这里给您留言" in text
    assert "街道" not in text


def test_declining_still_gives_help_lines_and_public_options() -> None:
    lines = [
        HelpLineInfo("c", "北京心理危机研究与干预中心", "010-82951332", "24小时", "心理危机干预", 1),
        HelpLineInfo("f", "火警", "119", "24小时", "火灾", 6),
    ]
    text = replies.psych_declined(lines)
    assert "010-82951332" in text and "119" not in text
    assert "心理关爱服务站" in text and "新希望家园" in text
    justice = DepartmentInfo("justice", "区司法局", "", "010-12345678", None, None)
    assert "010-12345678" in replies.legal_declined(justice) and "免费" in replies.legal_declined(None)


def test_case_status_lists_the_familys_cases_in_beijing_dates() -> None:
    evening_before = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    text = replies.case_status([_case(status="accepted", created_at=evening_before)])
    assert "XC-2026-000123 心理关爱（2026年03月01日登记）：已受理" in text
    assert "还没查到" in replies.case_status([])


def test_cancel_says_what_was_kept() -> None:
    text = replies.cancelled(forms.PSYCH_FORM, [_case(kind="legal")])
    assert "心理关爱登记不办了" in text and "没有交给任何部门" in text and "XC-2026-000123 不受影响" in text
    assert "不受影响" not in replies.cancelled(forms.ENTITLEMENT_FORM, [])


def test_pause_tells_how_to_resume() -> None:
    assert "继续刚才的登记" in replies.paused(forms.LEGAL_FORM)
